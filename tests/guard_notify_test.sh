#!/usr/bin/env bash
# The guard's notifications, end to end: the real guard (fake NVML, --dry-run) warns about an
# idle workload and then would stop it, and local receivers standing in for a Slack incoming
# webhook, a Teams workflow webhook and a generic webhook that fails twice (503) get each event
# in their own shape: Slack blocks naming the workload, its owner and GPU with the keep command;
# a Teams Adaptive Card with those facts; today's JSON, delivered after two tries; and a real
# SMTP server (Debian's python3-aiosmtpd) an email with a text and an HTML part, sent to the
# sink's address and to the owner's ([[person]] in --owners, which also puts their Slack
# mention in the Slack message). /metrics counts what each sink delivered and tried again, and
# passes promtool's lint.
# Usage: guard_notify_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$here/test_helpers.sh"  # check, wait_for, free_port
receiver() {  # receiver NAME FAIL_FIRST: a receiver storing into $tmp/NAME; its port in $port
  mkdir -p "$tmp/$1"
  /usr/bin/python3 "$here/notify_receiver.py" "$tmp/$1" "$2" >"$tmp/$1.port" &
  pids+=($!)
  wait_for 10 "[ -s $tmp/$1.port ]"
  port=$(cat "$tmp/$1.port")
}
receiver slack 0; slack=$port
receiver teams 0; teams=$port
receiver hook 2; hook=$port
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
  { echo "FAIL: python3-aiosmtpd is not installed (scripts/setup.sh --test installs it)"; exit 1; }
smtp=$(free_port)
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp" -c aiosmtpd.handlers.Mailbox "$tmp/mail" \
  >"$tmp/smtp.log" 2>&1 &
pids+=($!)
wait_for 10 "(exec 3<>/dev/tcp/127.0.0.1/$smtp) 2>/dev/null"
printf '[[person]]\nuser = "%s"\nslack = "U024BE7LH"\nemail = "owner@example.com"\n' \
  "$(id -un)" >"$tmp/owners.toml"

# The Slack URL carries its secret: it comes from a file, never the command line.
printf '# where the guard speaks\nslack:http://127.0.0.1:%s/services/T0/B0/secret\n' "$slack" \
  >"$tmp/sinks"
sleep 600 &
idle=$!
pids+=("$idle")
printf 'gpu 0 util 0 mem 2048\ngpu 1 util 90 mem 4000\nproc 0 %s 2000\n' "$idle" >"$tmp/nvml.state"
printf 'setup_grace = "2s"\nidle_after = "2s"\nwarn_before = "1s"\n' >"$tmp/policy.toml"
GPULEDGER_NVML_LIBRARY="$fake" FAKE_NVML_STATE="$tmp/nvml.state" "$bin" guard \
  --policy "$tmp/policy.toml" --gpu-source nvml --dry-run --sample-every 250ms --no-ledger \
  --state-dir "$tmp/state" --socket "$tmp/guard.sock" --metrics-listen 127.0.0.1:0 \
  --notify-file "$tmp/sinks" \
  --notify "teams:http://127.0.0.1:$teams/workflows/x" \
  --webhook "http://127.0.0.1:$hook/hook" --notify email:oncall@example.com \
  --smtp "127.0.0.1:$smtp" --smtp-from guard@node.example --owners "$tmp/owners.toml" \
  >"$tmp/guard.out" 2>"$tmp/guard.log" &
guard=$!
pids+=("$guard")
wait_for 20 "grep -q '/metrics on port' $tmp/guard.log"
mport=$(sed -n 's/.*\/metrics on port \([0-9]*\).*/\1/p' "$tmp/guard.log" | head -1)
# The warning and the (dry-run) kill reach all three, the hook after two 503s and backoff.
wait_for 30 "[ \$(ls $tmp/slack | wc -l) -ge 2 ] && [ \$(ls $tmp/teams | wc -l) -ge 2 ] && [ \$(ls $tmp/hook | wc -l) -ge 2 ]"
check "Slack got the warning and the kill" "[ \$(ls $tmp/slack | wc -l) -ge 2 ]"
check "Teams got the warning and the kill" "[ \$(ls $tmp/teams | wc -l) -ge 2 ]"
check "the webhook got both, after two 503s" "[ \$(ls $tmp/hook | wc -l) -ge 2 ] && [ ! -e $tmp/hook/001.json ]"

json() {  # json FILE PYTHON_EXPR: the value of EXPR over the parsed file d
  /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}
warn=$tmp/slack/001.json
check "Slack: a header block says what will happen" \
  "[ \"\$(json $warn \"d['blocks'][0]['text']['text']\")\" = 'gpuledger guard on $(hostname): an idle GPU workload will be stopped' ]"
check "Slack: the fields name the workload" \
  "json $warn \"[f['text'] for f in d['blocks'][2]['fields']]\" | grep -q 'Workload\*\\\\npg:$idle'"
check "Slack: the fields name the owner and the GPU" \
  "json $warn \"[f['text'] for f in d['blocks'][2]['fields']]\" | grep -q \"Owner\*\\\\\\\\n$(id -un)'.*GPU\*\\\\\\\\n0'\""
check "Slack: the keep command" "json $warn \"d['blocks'][3]['text']['text']\" | grep -q '\`gpuledger keep pg:$idle 2h'"
check "Slack: a plain-text fallback" "json $warn \"d['text']\" | grep -q 'will be stopped'"
card=$tmp/teams/001.json
check "Teams: an Adaptive Card" \
  "[ \"\$(json $card \"d['attachments'][0]['content']['type']\")\" = AdaptiveCard ]"
check "Teams: its facts name the owner" \
  "json $card \"d['attachments'][0]['content']['body'][2]['facts']\" | grep -q \"'Owner', 'value': '$(id -un)'\""
check "the webhook: today's JSON" "[ \"\$(json $tmp/hook/003.json \"d['workload']\")\" = pg:$idle ]"
check "Slack: the owner is mentioned" "json $warn \"d['text']\" | grep -q '^<@U024BE7LH> '"
wait_for 20 "[ \$(ls $tmp/mail/new 2>/dev/null | wc -l) -ge 2 ]"
check "email: the warning and the kill arrived" "[ \$(ls $tmp/mail/new | wc -l) -ge 2 ]"
mail=$(grep -l 'will be stopped' "$tmp"/mail/new/* | head -1)
check "email: sent to the sink's address and the owner's" \
  "grep -q '^X-RcptTo: oncall@example.com, owner@example.com' ${mail:-/dev/null}"
check "email: from the --smtp-from address" "grep -q '^From: guard@node.example' ${mail:-/dev/null}"
check "email: a subject saying what will happen" \
  "grep -q '^Subject: gpuledger guard on .*: an idle GPU workload will be stopped' ${mail:-/dev/null}"
check "email: a text part and an HTML part" \
  "grep -q 'text/plain; charset=utf-8' ${mail:-/dev/null} && grep -q 'text/html; charset=utf-8' ${mail:-/dev/null}"
check "email: the keep command" "grep -q 'gpuledger keep pg:$idle 2h' ${mail:-/dev/null}"
check "the kill says it was a dry run" \
  "json $tmp/slack/002.json \"d['blocks'][0]['text']['text']\" | grep -q 'was stopped (dry run)'"

# /metrics is published once a sample: wait for the counts to catch up with the receivers.
metrics() { curl -s -m 2 "127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"; }
wait_for 10 "metrics && grep -q '^gpuledger_notification_retries_total{sink=\"webhook\"} 2$' $tmp/metrics.txt"
check "/metrics: Slack delivered 2 or more" \
  "awk '/^gpuledger_notifications_delivered_total\\{sink=\"slack\"\\}/ {exit !(\$2 >= 2)}' $tmp/metrics.txt"
check "/metrics: the webhook was tried again twice" \
  "grep -q '^gpuledger_notification_retries_total{sink=\"webhook\"} 2$' $tmp/metrics.txt"
check "/metrics: no failures" "! grep -Eq '^gpuledger_notification_failures_total\\{.*\\} [1-9]' $tmp/metrics.txt"
check "/metrics passes promtool's lint" "promtool check metrics <$tmp/metrics.txt"
check "the log shows no webhook URL's secret" "! grep -q secret $tmp/guard.log"
check "the command line shows no webhook URL's secret" "! tr '\\0' ' ' </proc/$guard/cmdline | grep -q secret"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
