#!/usr/bin/env bash
# What the backtest promises is what the guard does, end to end: the real guard on the fake
# NVML, enforcing, with --record and a ledger, over three workloads (one never active: setup;
# one busy, then idle: idle; one busy throughout); then `backtest` on that recording with the
# guard's ledger as its jobs (--jobs ledger:…) must find the same kills, by the same rules, at
# the same instants within one sample (250 ms apart, or the longest gap between two recorded
# samples when a loaded machine stretched one).
# Usage: guard_backtest_test.sh PATH/TO/gpuledger PATH/TO/libfake_nvml.so
set -uo pipefail
set -m
bin=$(realpath "$1")
fake=$(realpath "$2")
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
source "$(dirname "$0")/test_helpers.sh"  # check, alive, wait_for, free_port
export GPULEDGER_NVML_LIBRARY="$fake"
export FAKE_NVML_STATE="$tmp/nvml.state"
cat >"$tmp/policy.toml" <<'TOML'
threshold = 5
setup_grace = "3s"
idle_after = "3s"
warn_before = "1s"
max_gap = "1s"
release_after = "1h"
TOML
sleep 600 & never=$!
sleep 600 & later=$!
sleep 600 & busy=$!
pids+=("$never" "$later" "$busy")
state() {  # state UTIL_OF_LATER: the three GPUs, each with its process
  printf 'gpu 0 util 0 mem 2048\nproc 0 %s 2000\n' "$never"
  printf 'gpu 1 util %s mem 2048\nproc 1 %s 2000\n' "$1" "$later"
  printf 'gpu 2 util 80 mem 2048\nproc 2 %s 2000\n' "$busy"
}
state 70 >"$FAKE_NVML_STATE"
"$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every 250ms --kill-grace 1s \
  --state-dir "$tmp/state" --no-socket --ledger "$tmp/ledger.db" --record "$tmp/rec" \
  --host node-a 2>"$tmp/guard.log" &
guard=$!
pids+=("$guard")
# "later" is busy for about 2 s, then idle; "never" idles from its first reading.
wait_for 10 "grep -q 'appeared' $tmp/guard.log"
sleep 2  # a stretch of activity of "later": 2 s of busy readings (not synchronisation)
state 0 >"$FAKE_NVML_STATE.new" && mv "$FAKE_NVML_STATE.new" "$FAKE_NVML_STATE"
wait_for 20 "! alive $never && ! alive $later"
check "the guard killed the never-active and the idle workload" "! alive $never && ! alive $later"
check "the busy one lives" "alive $busy"
# Let the guard see both gone (their rows end) before stopping it.
wait_for 10 "[ \"\$(sqlite3 $tmp/ledger.db \"select count(*) from jobs where end_ms is not null\" 2>/dev/null)\" = 2 ]"
kill -TERM "$guard"
wait "$guard"

sqlite3 -separator ' ' "$tmp/ledger.db" \
  "select j.job_id, d.rule, d.at_ms from decisions d join jobs j using (job_id) where d.kind = 'kill' order by j.job_id" \
  >"$tmp/guard-kills"
"$bin" backtest --telemetry "$tmp"/rec/*/ --jobs "ledger:$tmp/ledger.db" --policy "$tmp/policy.toml" \
  --price-per-gpu-hour 1 --format json >"$tmp/backtest.json" 2>"$tmp/backtest.err"
check "backtest ran on the recording ($(head -c 300 "$tmp/backtest.err"))" "[ -s $tmp/backtest.json ]"
/usr/bin/python3 - "$tmp/backtest.json" >"$tmp/backtest-kills" <<'PY'
import json, sys
from datetime import datetime
r = json.load(open(sys.argv[1]))
for d in sorted(r["decisions"], key=lambda d: d["job_id"]):
    at = datetime.fromisoformat(d["at"].replace("Z", "+00:00"))
    print(d["job_id"], d["rule"], round(at.timestamp() * 1000))
PY
echo "guard kills:"; cat "$tmp/guard-kills"
echo "backtest kills:"; cat "$tmp/backtest-kills"
check "two kills in the guard's ledger" "[ \$(wc -l <$tmp/guard-kills) -eq 2 ]"
check "the backtest finds the same jobs killed by the same rules" \
  "diff <(cut -d' ' -f1,2 $tmp/guard-kills) <(cut -d' ' -f1,2 $tmp/backtest-kills)"
check "a setup kill and an idle kill" \
  "[ \"\$(cut -d' ' -f2 $tmp/guard-kills | sort | tr '\n' ' ')\" = 'idle setup ' ]"
# One sample: the longest interval between consecutive recorded readings (250 ms unless stretched).
sample_ms=$(cat "$tmp"/rec/*/*.csv | /usr/bin/python3 -c 'import sys
from datetime import datetime
ts = sorted({datetime.strptime(l.split(",")[0], "%Y/%m/%d %H:%M:%S.%f").timestamp() * 1000
             for l in sys.stdin if l[:1].isdigit()})
print(round(max([250] + [b - a for a, b in zip(ts, ts[1:])])))')
check "each at the same instant within one sample ($sample_ms ms)" \
  "paste -d' ' $tmp/guard-kills $tmp/backtest-kills | awk -v s=$sample_ms '{d = \$3 - \$6; if (d < 0) d = -d; if (d > s) exit 1}'"
paste -d' ' "$tmp/guard-kills" "$tmp/backtest-kills" |
  awk '{printf "measured: %s killed at %.0f by the guard, %.0f by the backtest (%+.0f ms)\n", $1, $3, $6, $6 - $3}'

echo "guard vs backtest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
