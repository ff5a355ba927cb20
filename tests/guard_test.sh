#!/usr/bin/env bash
# The real `gpuledger guard` against a fake libnvidia-ml.so.1 (tests/fake_nvml.cc) that reports
# real processes this script starts: idle ones killed after their warning, busy ones untouched,
# shared GPUs, a GPU lost mid-run, a GPU-less process, dry-run, keeps (and a keep refused to
# another uid), the release command run once, a restart mid-stretch, /metrics scraped by a real
# Prometheus, the recording audited, the ledger's rows.
# Usage: guard_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
set -m  # every background process gets its own process group, as a job started from a shell
bin=$(realpath "$1")
fake=$(realpath "$2")
tmp=$(mktemp -d)
chmod 755 "$tmp"
guard_pid=""
prom_pid=""
procs=()
cleanup() {
  [ -n "$guard_pid" ] && kill -TERM "$guard_pid" 2>/dev/null
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null
  for p in "${procs[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, alive, wait_for, free_port

cat >"$tmp/policy.toml" <<'EOF'
threshold = 5
setup_grace = "3s"
idle_after = "3s"
warn_before = "1500ms"
release_after = "3s"
max_gap = "2s"
max_keep = "1h"
EOF
export GPULEDGER_NVML_LIBRARY="$fake"
export FAKE_NVML_STATE="$tmp/nvml.state"

spawn() {  # spawn [setpriv args…]: a sleeping process in its own group; its pid in $spawned
  "$@" sleep 600 &
  spawned=$!
  procs+=("$spawned")
}
# start_guard NAME [FLAG…]: the guard in the background, its log in $tmp/NAME.log, its /metrics
# on a port the kernel picks (port 0; $mport once it says which)
start_guard() {
  guard_name=$1
  shift
  "$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms \
    --kill-grace 1s --state-dir "$tmp/state" --socket "$tmp/guard.sock" \
    --metrics-listen 127.0.0.1:0 "$@" >"$tmp/$guard_name.out" 2>"$tmp/$guard_name.log" &
  guard_pid=$!
  wait_for 10 "[ -S $tmp/guard.sock ] && grep -q '/metrics on port' $tmp/$guard_name.log"
  mport=$(sed -n 's/.*\/metrics on port \([0-9]*\).*/\1/p' "$tmp/$guard_name.log" | head -1)
}
# samples: how many readings the running guard has taken (its /metrics)
samples() {
  local n
  n=$(curl -s -m 2 "127.0.0.1:${mport:-1}/metrics" | awk '/^gpuledger_samples_total / {print $2}')
  echo "${n:-0}"
}
# after_samples N: waits until the guard has taken N more readings. Checks that something did
# NOT happen wait on the guard's own progress this way, never on the wall clock: under load the
# guard is slow and a sleep would prove nothing.
after_samples() {
  local want=$(($(samples) + $1))
  wait_for 60 "[ \$(samples) -ge $want ]"
}
stop_guard() {
  kill -TERM "$guard_pid" 2>/dev/null
  wait "$guard_pid"
  guard_rc=$?
  guard_pid=""
}

# --- A: the main node -------------------------------------------------------------------------
spawn; idle=$spawned
spawn; busy=$spawned
spawn; gpuless=$spawned
spawn; shared_a=$spawned
spawn; shared_b=$spawned
spawn; per_a=$spawned
spawn; per_b=$spawned
spawn; on_lost=$spawned
cat >"$FAKE_NVML_STATE" <<EOF
gpu 0 util 0 mem 2048
gpu 1 util 90 mem 30000
gpu 2 util 80 mem 4000
gpu 3 util 80 mem 4000
gpu 4 util 0 mem 1000 lost
proc 0 $idle 2000
proc 1 $busy 29000
proc 2 $shared_a 1000
proc 2 $shared_b 1000
proc 3 $per_a 1000 util 75
proc 3 $per_b 1000 util 0
proc 4 $on_lost 1000
EOF
start_guard a --ledger "$tmp/ledger.db" --record "$tmp/rec" --usd-per-gpu-hour 3 --host node-a
# A real Prometheus scrapes the guard's /metrics every second.
if command -v prometheus >/dev/null; then
  pport=$(free_port)
  printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: guard\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
    "$mport" >"$tmp/prometheus.yml"
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
    --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
  prom_pid=$!
fi
# The two kills (idle: setup; the idle sharer), then what stands beside them.
wait_for 20 "! alive $idle && ! alive $per_b"
check "the idle workload is killed" "! alive $idle"
check "the busy workload is untouched" "alive $busy"
check "a process on no GPU is untouched" "alive $gpuless"
check "a busy shared GPU without per-process figures kills nobody" "alive $shared_a && alive $shared_b"
check "per-process figures keep the busy sharer" "alive $per_a"
check "per-process figures kill the idle sharer" "! alive $per_b"
check "a lost GPU's workload is untouched" "alive $on_lost"
check "the idle workload was warned before it was killed" \
  "grep -n \"warn: pg:$idle\" $tmp/a.log | head -1 | cut -d: -f1 | { read w; k=\$(grep -n \"kill: pg:$idle\" $tmp/a.log | head -1 | cut -d: -f1); [ -n \"\$w\" ] && [ -n \"\$k\" ] && [ \$w -lt \$k ]; }"
check "the warning says how to keep it" "grep -q \"gpuledger keep pg:$idle 2h\" $tmp/a.log"
check "the lost GPU is reported once" "[ \$(grep -c 'GPU 4: GPU is lost' $tmp/a.log) -eq 1 ]"
curl -s "127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"
check "/metrics counts the kills" "grep -q '^gpuledger_kills_total 2$' $tmp/metrics.txt"
# What they freed: GPU 0 (the idle one's 2000 MiB) and GPU 3 (the idle sharer's 1000 MiB).
check "/metrics counts the GPUs the kills freed" "grep -q '^gpuledger_freed_gpus_total 2$' $tmp/metrics.txt"
check "/metrics counts the memory the kills freed" \
  "grep -q '^gpuledger_freed_memory_bytes_total 3145728000$' $tmp/metrics.txt"
check "/metrics passes promtool's lint" "promtool check metrics <$tmp/metrics.txt"
check "/metrics names the build" \
  "grep -q '^gpuledger_build_info{version=\"[0-9.]*\",commit=\"[0-9a-f]\\{12\\}' $tmp/metrics.txt"
check "/metrics shows a workload's state" \
  "grep -q \"gpuledger_workload_state{workload=\\\"pg:$busy\\\",kind=\\\"pg\\\",owner=\\\"$(id -un)\\\",state=\\\"active\\\"} 1\" $tmp/metrics.txt"
check "/metrics counts reading errors" "grep -Eq '^gpuledger_reading_errors_total [1-9]' $tmp/metrics.txt"
if [ -n "$prom_pid" ]; then
  got=""
  for _ in $(seq 30); do
    got=$(curl -s "127.0.0.1:$pport/api/v1/query?query=gpuledger_kills_total" | grep -o '"value":\[[^]]*\]')
    [ -n "$got" ] && break
    sleep 0.5
  done
  check "Prometheus scraped the guard (kills: $got)" "echo '$got' | grep -q '\"2\"'"
  util=$(curl -s "127.0.0.1:$pport/api/v1/query?query=gpuledger_gpu_utilization_percent%7Bgpu%3D%221%22%7D" | grep -o '"value":\[[^]]*\]')
  check "Prometheus has GPU 1 at 90 % ($util)" "echo '$util' | grep -q '\"90\"'"
else
  fail "prometheus is not installed (scripts/setup.sh --test installs it)"
fi
stop_guard
check "the guard exits 0 on SIGTERM" "[ $guard_rc -eq 0 ]"
check "stopping the guard kills nothing" "alive $busy && alive $per_a && alive $on_lost"
check "the ledger holds the killed workload" \
  "[ \"\$(sqlite3 $tmp/ledger.db \"select status||','||kind||','||killed_by from jobs where job_id like 'node-a:pg:$idle:%'\")\" = 'killed,pg,setup' ]"
check "the ledger holds warnings and kills with the rate they save" \
  "[ \"\$(sqlite3 $tmp/ledger.db \"select count(*) from decisions where kind='kill' and usd_per_hour_saved = 3\")\" = 2 ]"
"$bin" audit --telemetry "$tmp"/rec/*/ --price-per-gpu-hour 3 --format json >"$tmp/audit.json" 2>"$tmp/audit.err"
check "the recording audits as one machine of 4 read GPUs" \
  "grep -q '\"machines_total\": 1' $tmp/audit.json && grep -q '\"name\": \"node-a\"' $tmp/audit.json"

# --- B: dry run signals nothing and releases nothing --------------------------------------------
spawn; dry=$spawned
printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$dry" >"$FAKE_NVML_STATE"
printf 'release_command = "echo released >> %s/dry-release"\n' "$tmp" >>"$tmp/policy.toml"
start_guard b --dry-run --no-ledger
wait_for 15 "grep -q 'would send SIGTERM to process group $dry' $tmp/b.log"
stop_guard
check "dry-run kills nothing" "alive $dry"
check "dry-run says what it would do" "grep -q '\[dry run\] would send SIGTERM to process group $dry' $tmp/b.log"
kill -9 "$dry"
printf 'gpu 0 util 0\ngpu 1 util 1\n' >"$FAKE_NVML_STATE"
start_guard b2 --dry-run --no-ledger
wait_for 15 "grep -q 'would run: echo released' $tmp/b2.log"
after_samples 4  # the release it would run is being written out
stop_guard
check "dry-run never runs the release command" "[ ! -e $tmp/dry-release ]"
check "dry-run says it would release" "grep -q 'would run: echo released' $tmp/b2.log"

# --- C: the release command, once -----------------------------------------------------------------
sed -i 's/dry-release/release/' "$tmp/policy.toml"
start_guard c --no-ledger
wait_for 15 "[ -s $tmp/release ]"
after_samples 20  # 5 s of readings: longer than release_after, so a second release would show
stop_guard
check "the release command ran once ($(cat "$tmp/release" 2>/dev/null | wc -l))" \
  "[ \$(cat $tmp/release 2>/dev/null | wc -l) -eq 1 ]"
sed -i '/release_command/d' "$tmp/policy.toml"

# --- D: keeps ------------------------------------------------------------------------------------------
spawn; kept=$spawned
spawn; unkept=$spawned  # idle beside the kept one, and not kept: its kill marks the kept one's due time
as_nobody=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  spawn "${as_nobody[@]}"; nobodys=$spawned
else
  if [ "${CI:-}" = true ]; then
    failed=$((failed + 1))
    echo "FAIL: not root under CI=true: the other-uid keep cases need root"
  else
    echo "note: not root: the other-uid keep cases are skipped"
  fi
  spawn; nobodys=$spawned
fi
printf 'gpu 0 util 0 mem 2048\ngpu 1 util 0 mem 1024\ngpu 2 util 0 mem 1024\nproc 0 %s 2000\nproc 1 %s 1000\nproc 2 %s 1000\n' \
  "$kept" "$nobodys" "$unkept" >"$FAKE_NVML_STATE"
start_guard d --ledger "$tmp/ledger.db"
wait_for 10 "grep -q 'pg:$kept appeared' $tmp/d.log && grep -q 'pg:$nobodys appeared' $tmp/d.log"
"$bin" keep "pg:$kept" 1h --reason "demo at 3pm" --socket "$tmp/guard.sock" >"$tmp/keep.out" 2>&1
check "keep by the owner is granted: $(cat "$tmp/keep.out")" "grep -q 'kept until' $tmp/keep.out"
if [ ${#as_nobody[@]} -gt 0 ]; then
  "${as_nobody[@]}" "$bin" keep "pg:$kept" 1h --reason "mine now" --socket "$tmp/guard.sock" \
    >"$tmp/refused.out" 2>&1
  rc=$?
  check "keep of another user's workload is refused (exit $rc)" "[ $rc -eq 1 ] && grep -q 'only they or root' $tmp/refused.out"
  "${as_nobody[@]}" "$bin" keep "$nobodys" 30m --reason "eval" --socket "$tmp/guard.sock" \
    >"$tmp/own.out" 2>&1
  check "keep of one's own workload by pid is granted: $(cat "$tmp/own.out")" "grep -q \"pg:$nobodys kept until\" $tmp/own.out"
fi
"$bin" keep "pg:$kept" 1h --socket "$tmp/guard.sock" >/dev/null 2>&1
check "keep without a reason is a usage error" "[ $? -eq 2 ]"
wait_for 15 "! alive $unkept"
after_samples 4
check "the unkept one beside it is killed at its setup grace" "! alive $unkept"
check "a kept workload is not killed" "alive $kept"
"$bin" keep --list --socket "$tmp/guard.sock" >"$tmp/list.out"
check "keep --list shows the keep" "grep -q \"pg:$kept .*kept.*demo at 3pm\" $tmp/list.out"
check "the keep is in the ledger with who asked" \
  "[ \"\$(sqlite3 $tmp/ledger.db \"select granted_by from decisions where kind='keep' and explanation like 'pg:$kept%'\")\" = '$(id -un)' ]"

# --- E: a crash mid-stretch kills nothing; after the restart the keep still holds --------------------
stop_guard
check "the kept workload survives the guard stopping" "alive $kept"
spawn; fresh=$spawned
printf 'gpu 0 util 0 mem 2048\ngpu 1 util 0 mem 1024\nproc 0 %s 2000\nproc 1 %s 1000\n' \
  "$kept" "$fresh" >"$FAKE_NVML_STATE"
start_guard e1 --no-ledger
wait_for 10 "grep -q 'pg:$fresh appeared' $tmp/e1.log"
after_samples 8  # fresh is idle for 2 s of its 3 s setup grace when the guard dies
kill -KILL "$guard_pid"  # a crash: no clean exit, the socket file left behind
wait "$guard_pid" 2>/dev/null
guard_pid=""
check "a crash mid-stretch kills nothing" "alive $fresh && alive $kept"
start_guard e2 --no-ledger
wait_for 10 "grep -q 'pg:$fresh appeared' $tmp/e2.log"
after_samples 6  # 1.5 s: past the 3 s grace had the stretch carried on from before the crash
check "the idle stretch starts again after the restart (missing data never kills)" "alive $fresh"
"$bin" keep --list --socket "$tmp/guard.sock" >"$tmp/list2.out"
check "the keep survives the restart" "grep -q \"pg:$kept .*kept.*demo at 3pm\" $tmp/list2.out"
check "the restart says what it carried over" "grep -q 'carrying over' $tmp/e2.log"
check "the restart replaced the dead guard's socket" "! grep -q 'another guard' $tmp/e2.log"
wait_for 15 "! alive $fresh"
check "after the restart the idle workload is killed" "! alive $fresh"
check "the kept one is still spared" "alive $kept"

# --- F: a GPU lost mid-run, then back --------------------------------------------------------------
printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$kept" >/dev/null
spawn; flaky=$spawned
printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$flaky" >"$FAKE_NVML_STATE"
wait_for 10 "grep -q 'pg:$flaky appeared' $tmp/e2.log"
after_samples 6  # 1.5 s of its 3 s grace
printf 'gpu 0 util 0 mem 2048 lost\nproc 0 %s 2000\n' "$flaky" >"$FAKE_NVML_STATE"
after_samples 16  # 4 s lost: past its grace, had lost readings counted as idle
check "a GPU lost mid-stretch kills nothing" "alive $flaky"
printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$flaky" >"$FAKE_NVML_STATE"
after_samples 6  # back for 1.5 s: the stretch began again
check "back, the stretch starts again" "alive $flaky"
wait_for 15 "! alive $flaky"
check "back and idle for the setup grace, it is killed" "! alive $flaky"

# --- G: a pid the driver lists that no process has (gone, or another namespace's) ------------------
printf 'gpu 0 util 0 mem 2048\nproc 0 999999 2000\n' >"$FAKE_NVML_STATE"
after_samples 16  # 4 s: longer than any grace
check "a listed pid with no process is skipped: the guard runs on" "alive $guard_pid"
check "… it makes no workload and nothing is decided for it" "! grep -q 999999 $tmp/e2.log"
check "… and its GPU counts as held: no release" "! grep -q 'releasing the machine' $tmp/e2.log"
stop_guard

# --- H: over budget: new work of an owner with a 100 % alert this month ---------------------------
# The alert as `gpuledger budgets check` records it; a busy workload, so only the budget can stop it.
sqlite3 "$tmp/ledger.db" "INSERT INTO alerts VALUES ('owner:$(id -un)', '$(date -u +%Y-%m)', 100, 0, 'at 130 %')"
spawn; spender=$spawned
printf 'gpu 0 util 90 mem 2048\nproc 0 %s 2000\n' "$spender" >"$FAKE_NVML_STATE"
start_guard h1 --ledger "$tmp/ledger.db"
wait_for 10 "grep -q 'past its monthly budget' $tmp/h1.log"
after_samples 4
check "over budget, over_budget = warn: it runs" "alive $spender"
check "the warning says why" "grep -q 'past its monthly budget' $tmp/h1.log"
stop_guard
echo 'over_budget = "refuse"' >>"$tmp/policy.toml"
spawn; refused=$spawned
printf 'gpu 0 util 90 mem 2048\nproc 0 %s 2000\n' "$refused" >"$FAKE_NVML_STATE"
start_guard h2 --ledger "$tmp/ledger.db"
wait_for 15 "! alive $refused"
check "over budget, over_budget = refuse: new work is stopped" "! alive $refused"
check "the stop is in the ledger as over_budget" \
  "[ \"\$(sqlite3 $tmp/ledger.db \"select count(*) from decisions where rule='over_budget' and kind='kill'\")\" -ge 1 ]"
stop_guard
sed -i '/over_budget/d' "$tmp/policy.toml"

echo "guard: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
