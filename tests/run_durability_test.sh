#!/usr/bin/env bash
# gpuledger run under fire: 200 short runs into one new ledger, 6 at a time, a third of them
# SIGKILLed mid-run. Afterwards the ledger passes PRAGMA integrity_check (SQLite), no job process
# is left behind, every run that was not killed has its row closed, and no row of a dead run
# reads "running" (they read "abandoned").
# Usage: run_durability_test.sh PATH/TO/gpuledger [LEDGER [AT_ONCE]]
#   LEDGER: a postgresql:// URL (tests/postgres_test.sh) instead of a new SQLite file.
set -uo pipefail
bin=$(realpath "$1")
tmp=$(mktemp -d)
trap 'pkill -9 -f "gpuledger-durability-$$" 2>/dev/null; rm -rf "$tmp"' EXIT
ledger=${2:-$tmp/ledger.db}
at_once=${3:-6}
marker="gpuledger-durability-$$"
failed=0
runs=200
one() {  # one N: a short run; every third is SIGKILLed while its job sleeps
  local n=$1
  if [ $((n % 3)) -eq 0 ]; then
    "$bin" run --ledger "$ledger" --gpu-source none --job-id "d$n" -- \
      bash -c "exec -a $marker sleep 30" >/dev/null 2>&1 &
    local pid=$!
    sleep 0.$((RANDOM % 5 + 2))
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  else
    "$bin" run --ledger "$ledger" --gpu-source none --job-id "d$n" -- bash -c "exit $((n % 2))" \
      >/dev/null 2>&1
  fi
}
for n in $(seq 1 $runs); do
  one "$n" &
  while [ "$(jobs -rp | wc -l)" -ge "$at_once" ]; do wait -n; done
done
wait
sleep 1  # the watchdogs' SIGKILLs land
if pgrep -f "$marker" >/dev/null; then
  echo "FAIL: job processes outlived their killed runs: $(pgrep -f "$marker" | wc -l)"; failed=1
fi
if [[ "$ledger" != postgres* ]]; then
  check=$(sqlite3 "$ledger" "PRAGMA integrity_check;" 2>&1)
  [ "$check" = ok ] || { echo "FAIL: integrity_check: $check"; failed=1; }
fi
"$bin" ledger jobs --ledger "$ledger" --format csv >"$tmp/jobs.csv" || { echo "FAIL: ledger jobs"; failed=1; }
rows=$(($(wc -l <"$tmp/jobs.csv") - 1))
killed=$((runs / 3))
[ "$rows" -ge $((runs - killed)) ] || { echo "FAIL: $rows rows for $runs runs"; failed=1; }
if grep -q ",running," "$tmp/jobs.csv"; then
  echo "FAIL: rows of dead runs still read running:"; grep ",running," "$tmp/jobs.csv" | head -3; failed=1
fi
closed=$(grep -cE ",(completed|failed)," "$tmp/jobs.csv")
[ "$closed" -eq $((runs - killed)) ] || { echo "FAIL: $closed closed rows, wanted $((runs - killed))"; failed=1; }
abandoned=$(grep -c ",abandoned," "$tmp/jobs.csv")
echo "$rows rows: $closed closed, $abandoned abandoned (of $killed SIGKILLed runs)"
[ $failed -eq 0 ] && echo "ok" || exit 1
