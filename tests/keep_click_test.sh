#!/usr/bin/env bash
# Keep with one click, end to end: the real guard (fake NVML, real signals) on a real
# PostgreSQL ledger with `gpuledger serve` beside it. Three idle workloads are warned about; the
# Slack warning carries keep buttons and the email signed links (with the owner's address).
#   A: its owner clicks "Keep 2h" (signed as Slack signs): kept past its stop time; the Slack
#      message's buttons are replaced by the answer; the same request replayed is refused.
#   B: a bad signature, a stale timestamp and another user's click are all refused, and B is
#      stopped on time (the guard's own ledger times it), though one sink answers 503 to
#      everything and another never answers at all.
#   C: its owner opens the emailed link (GET shows a form, nothing happens), confirms (POST):
#      kept; the link then refuses a second use, and the other link refuses once expired.
# Usage: keep_click_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
source "$here/postgres_server.sh"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; pg_stop; [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$here/test_helpers.sh"  # check, wait_for, free_port, alive
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
  { echo "FAIL: python3-aiosmtpd is not installed (scripts/setup.sh --test installs it)"; exit 1; }
pg_start "$tmp" || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
ledger="$PG_URL/postgres"

receiver() {  # receiver NAME: a webhook receiver storing into $tmp/NAME; its port in $port
  mkdir -p "$tmp/$1"
  /usr/bin/python3 "$here/notify_receiver.py" "$tmp/$1" 0 >"$tmp/$1.port" &
  pids+=($!)
  wait_for 10 "[ -s $tmp/$1.port ]"
  port=$(cat "$tmp/$1.port")
}
receiver slack; slack=$port    # the incoming webhook the warnings go to
receiver replies; replies=$port  # Slack's response_url for the clicks' answers
# Two more sinks that never deliver: one answers 503 to everything, one accepts and never
# answers. B's stop is timed from the guard's ledger: neither may delay it.
mkdir -p "$tmp/failing"
/usr/bin/python3 "$here/notify_receiver.py" "$tmp/failing" 1000000 >"$tmp/failing.port" &
pids+=($!)
/usr/bin/python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$tmp/hanging.port" &
pids+=($!)
wait_for 10 "[ -s $tmp/failing.port ] && [ -s $tmp/hanging.port ]"
smtp=$(free_port)
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp" -c aiosmtpd.handlers.Mailbox "$tmp/mail" \
  >"$tmp/smtp.log" 2>&1 &
pids+=($!)
wait_for 10 "(exec 3<>/dev/tcp/127.0.0.1/$smtp) 2>/dev/null"

me=$(id -un)
printf '[[person]]\nuser = "%s"\nslack = "U0OWNER"\nemail = "owner@example.com"\n\n[[person]]\nuser = "mallory"\nslack = "U0MALLORY"\n' \
  "$me" >"$tmp/owners.toml"
head -c 32 /dev/urandom | base64 >"$tmp/slack.secret"
head -c 32 /dev/urandom | base64 >"$tmp/link.secret"
serve_port=$(free_port)

sleep 600 & a=$!; pids+=("$a")
sleep 600 & b=$!; pids+=("$b")
sleep 600 & c=$!; pids+=("$c")
printf 'gpu 0 util 0 mem 2048\ngpu 1 util 0 mem 2048\ngpu 2 util 0 mem 2048\nproc 0 %s 2000\nproc 1 %s 2000\nproc 2 %s 2000\n' \
  "$a" "$b" "$c" >"$tmp/nvml.state"
printf 'setup_grace = "14s"\nidle_after = "14s"\nwarn_before = "12s"\nmax_keep = "4h"\n' >"$tmp/policy.toml"
GPULEDGER_NVML_LIBRARY="$fake" FAKE_NVML_STATE="$tmp/nvml.state" "$bin" guard \
  --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms --kill-grace 1s \
  --ledger "$ledger" --state-dir "$tmp/state" --socket "$tmp/guard.sock" \
  --notify "slack:http://127.0.0.1:$slack/services/T0/B0/x" --notify email:oncall@example.com \
  --notify "webhook:http://127.0.0.1:$(cat "$tmp/failing.port")/hook" \
  --notify "teams:http://127.0.0.1:$(cat "$tmp/hanging.port")/workflows/x" \
  --smtp "127.0.0.1:$smtp" --smtp-from guard@node.example --owners "$tmp/owners.toml" \
  --keep-url "http://127.0.0.1:$serve_port/" --keep-link-secret-file "$tmp/link.secret" \
  >"$tmp/guard.out" 2>"$tmp/guard.log" &
pids+=($!)
# The guard creates the ledger's tables; serve wants them there.
wait_for 20 "pg_sql postgres 'SELECT count(*) FROM keep_requests' >/dev/null 2>&1"
"$bin" serve --ledger "$ledger" --listen "127.0.0.1:$serve_port" --owners "$tmp/owners.toml" \
  --slack-signing-secret-file "$tmp/slack.secret" --link-secret-file "$tmp/link.secret" \
  --slack-reply-origin "http://127.0.0.1:$replies" >"$tmp/serve.out" 2>"$tmp/serve.log" &
pids+=($!)
wait_for 20 "grep -q 'listening on port' $tmp/serve.log"
check "serve listens" "grep -q 'listening on port $serve_port' $tmp/serve.log"

warning_of() {  # the Slack warning naming workload pg:PID
  grep -l "\"value\":\"{.*pg:$1" "$tmp"/slack/*.json 2>/dev/null | head -1
}
wait_for 20 "[ -n \"\$(warning_of $a)\" ] && [ -n \"\$(warning_of $b)\" ] && [ -n \"\$(warning_of $c)\" ]"
wa=$(warning_of "$a"); wb=$(warning_of "$b")
check "Slack: the warning carries Keep 2h and Keep 4h (max_keep caps 8h)" \
  "/usr/bin/python3 -c \"import json,sys; d=json.load(open('$wa')); e=[x['text']['text'] for b in d['blocks'] if b['type']=='actions' for x in b['elements']]; sys.exit(e!=['Keep 2h','Keep 4h'])\""
click() {  # click MESSAGE USER LABEL [OPTIONS]: serve's HTTP status
  /usr/bin/python3 "$here/slack_click.py" "http://127.0.0.1:$serve_port/slack/interactions" \
    "$tmp/slack.secret" "$@"
}
reply="http://127.0.0.1:$replies/actions/T0/1/r"
check "B: a bad signature is refused (401)" "[ \"\$(click $wb U0OWNER $reply 'Keep 2h' --bad-signature)\" = 401 ]"
check "B: a stale timestamp is refused (401)" "[ \"\$(click $wb U0OWNER $reply 'Keep 2h' --skew 400)\" = 401 ]"
check "B: another user's click is answered, not recorded" "[ \"\$(click $wb U0MALLORY $reply 'Keep 2h')\" = 200 ]"
check "A: its owner's click is taken" "[ \"\$(click $wa U0OWNER $reply 'Keep 2h' --save $tmp/a.click)\" = 200 ]"
check "A: the same click replayed is refused (409)" "[ \"\$(click x x x x --replay $tmp/a.click)\" = 409 ]"
# A click on a response_url of another origin is taken but answered nowhere.
wait_for 20 "grep -lq 'replace_original\": *true' $tmp/replies/*.json 2>/dev/null"
answer=$(grep -l 'replace_original": *true' "$tmp"/replies/*.json | head -1)
check "A: the message is replaced by who kept it until when" \
  "grep -q \"Kept: pg:$a kept until .* for $me (kept from Slack by user-u0owner)\" ${answer:-/dev/null}"
check "A: the replacement keeps the warning and drops the buttons" \
  "/usr/bin/python3 -c \"import json,sys; d=json.load(open('${answer:-/dev/null}')); t=[b['type'] for b in d['blocks']]; sys.exit('actions' in t or t[0]!='header')\""
check "B: the other user is told why not" \
  "grep -l 'ephemeral' $tmp/replies/*.json | xargs grep -q 'belongs to $me: only they or an admin'"

# C: the emailed links, as its owner meets them.
wait_for 20 "grep -l 'pg:$c' $tmp/mail/new/* 2>/dev/null | xargs grep -l 'will be stopped' >/dev/null 2>&1"
mail=$(grep -l "pg:$c" "$tmp"/mail/new/* | xargs grep -l 'will be stopped' | head -1)
check "email: sent to the owner too" "grep -q '^X-RcptTo: oncall@example.com, owner@example.com' ${mail:-/dev/null}"
link2=$(sed -n 's/^Keep 2h: \(http[^ ]*\)\r*$/\1/p' "${mail:-/dev/null}" | head -1 | tr -d '\r')
link4=$(sed -n 's/^Keep 4h: \(http[^ ]*\)\r*$/\1/p' "${mail:-/dev/null}" | head -1 | tr -d '\r')
check "email: the text part carries both signed links" "[ -n '$link2' ] && [ -n '$link4' ]"
check "email: the HTML part links them" "grep -q \"<a href=\\\"$link2\\\"\" ${mail:-/dev/null}"
status() { curl -s -o "$tmp/page.html" -w '%{http_code}' -m 30 "$@"; }
check "C: opening the link shows a form and keeps nothing" \
  "[ \$(status '$link2') = 200 ] && grep -q 'method=\"post\"' $tmp/page.html && [ \$(pg_sql postgres 'SELECT count(*) FROM keep_requests WHERE source = '\\''email'\\''') = 0 ]"
token=${link2#*t=}
check "C: confirming keeps it" \
  "[ \$(status --data-urlencode t=$token --data-urlencode 'reason=training resumes at noon' http://127.0.0.1:$serve_port/keep) = 200 ] && grep -q 'kept until' $tmp/page.html"
check "C: the link works once" \
  "[ \$(status --data-urlencode t=$token http://127.0.0.1:$serve_port/keep) = 410 ]"
last=${link4: -1}
[ "$last" = A ] && other=E || other=A  # another character: the signature changed
check "a link whose signature was changed is refused" \
  "[ \$(status '${link4%?}$other') = 403 ]"

# B is stopped when its warning said, whatever was tried on its behalf.
wait_for 30 "! alive $b"
check "B: stopped" "! alive $b"
check "A and C: kept past the stop" "alive $a && alive $c"
timing=$(pg_sql postgres "SELECT max(at_ms) FILTER (WHERE kind = 'kill') - max(at_ms) FILTER (WHERE kind = 'warn') FROM decisions WHERE job_id LIKE '%pg:$b%'")
check "B: stopped on time (12 s after its warning, give or take 2 s): ${timing}ms" \
  "[ -n '$timing' ] && [ $timing -ge 10000 ] && [ $timing -le 14000 ]"
# C may have been warned a sample after B: its links expire up to a sample later.
wait_for 10 "[ \$(status '$link4') = 403 ]"
check "C: the other link refuses once expired (at C's stop time)" \
  "[ \$(status '$link4') = 403 ] && grep -q 'expired' $tmp/page.html"
"$bin" keep --list --socket "$tmp/guard.sock" --format json >"$tmp/list.json" 2>&1
check "keep --list: A kept from Slack, C from the email" \
  "grep -q 'kept from Slack by user-u0owner' $tmp/list.json && grep -q 'training resumes at noon' $tmp/list.json"
check "the ledger: two requests kept, none pending, the refused ones never recorded" \
  "[ \"\$(pg_sql postgres 'SELECT state, source, count(*) FROM keep_requests GROUP BY 1, 2 ORDER BY 2')\" = \"\$(printf 'kept|email|1\\nkept|slack|1')\" ]"
check "the ledger: the keeps are decisions granted by the owner" \
  "[ \$(pg_sql postgres \"SELECT count(*) FROM decisions WHERE kind = 'keep' AND granted_by = '$me'\") = 2 ]"
check "serve logged the refusals" \
  "grep -q 'X-Slack-Signature is wrong' $tmp/serve.log && grep -q 'more than 5 minutes' $tmp/serve.log && grep -q 'a replay' $tmp/serve.log"
[ "$failed" -eq 0 ] || { echo "--- guard log"; tail -30 "$tmp/guard.log"; echo "--- serve log"; cat "$tmp/serve.log"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
