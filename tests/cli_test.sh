#!/usr/bin/env bash
# End-to-end tests of the gpuledger CLI: exit codes, golden outputs, real captures, and the
# demo written to files auditing to the same figures as the demo in memory.
# Usage: cli_test.sh PATH/TO/gpuledger SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got, wanted $want"
    head -5 "$tmp/err"
  fi
}

same() {  # same NAME FILE_A FILE_B
  if diff -u "$2" "$3" >"$tmp/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: output differs"
    head -40 "$tmp/diff"
  fi
}

contains() {  # contains NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: '$3' not in output"
    head -20 "$2"
  fi
}

# Exit codes: 0 done, 1 unreadable required input, 2 usage.
check "help" 0 "$bin" --help
check "audit help" 0 "$bin" audit --help
check "demo help" 0 "$bin" demo --help
check "no subcommand" 2 "$bin"
check "unknown flag" 2 "$bin" audit --telemetry x --bogus
check "flat price without telemetry" 2 "$bin" audit --price-per-gpu-hour 1
contains "flat price without telemetry says why" "$tmp/err" "bills machines from their telemetry"
check "inventory alone" 0 "$bin" audit --inventory "$src/tests/data/audit/small/inventory.csv" \
  --format json
contains "inventory alone is unmonitored" "$tmp/out" '"unmonitored": 8.1,'
check "neither inventory nor price" 2 "$bin" audit --telemetry "$src/tests/data/audit/small/telemetry"
check "bad format" 2 "$bin" audit --telemetry x --price-per-gpu-hour 1 --format yaml
check "bad max gap" 2 "$bin" audit --telemetry x --price-per-gpu-hour 1 --max-gap soon
check "bad time zone" 2 "$bin" audit --telemetry x --price-per-gpu-hour 1 --tz Mars/Base
check "bad window" 2 "$bin" audit --telemetry x --price-per-gpu-hour 1 --from tomorrow
check "missing telemetry" 1 "$bin" audit --telemetry "$tmp/nope" --price-per-gpu-hour 1
contains "missing telemetry names it" "$tmp/err" "$tmp/nope"
check "missing inventory" 1 "$bin" audit --telemetry "$src/tests/data/audit/small/telemetry" \
  --inventory "$tmp/none.csv"
contains "missing inventory names it" "$tmp/err" "$tmp/none.csv"

# Golden outputs of a hand-computed case (paths in the output are relative to the case).
cd "$src/tests/data/audit/small" || exit 1
for format in json csv; do
  check "small $format" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv \
    --jobs jobs.csv --format "$format"
  same "small $format golden" "$tmp/out" "expected.$format"
done
check "small table" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv --jobs jobs.csv
contains "table headline" "$tmp/out" "never used: 1 of 2 machines"
contains "table problems" "$tmp/out" "util_not_a_number"
check "small backtest" 0 "$bin" backtest --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.csv --format json
same "small backtest golden" "$tmp/out" expected-backtest.json
check "small sweep" 0 "$bin" backtest --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.csv --sweep setup_grace=5m,10m,20m --format csv
same "small sweep golden" "$tmp/out" expected-sweep.csv
check "small sacct" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.sacct --jobs-format sacct --format json
contains "sacct job active" "$tmp/out" '"job_active": 1.8,'
contains "sacct job idle" "$tmp/out" '"job_idle": 1.8,'
contains "sacct idle outside" "$tmp/out" '"idle_outside_jobs": 3.6,'
contains "sacct step noted" "$tmp/out" '"job_step_skipped"'
check "sweep of an unknown key" 2 "$bin" backtest --telemetry telemetry --inventory inventory.csv \
  --sweep colour=red
cd "$src" || exit 1

# Policy files: checked with line-precise errors.
printf 'threshold = 10\nidle_after = "45m"\n[exempt]\nowners = ["asha"]\n' >"$tmp/good.toml"
check "policy check" 0 "$bin" policy check "$tmp/good.toml"
contains "policy defaults filled in" "$tmp/out" 'setup_grace    = "20m"'
contains "policy values kept" "$tmp/out" 'idle_after     = "45m"'
printf 'threshold = 10\nidle_after = "soon"\n' >"$tmp/bad.toml"
check "policy check bad" 1 "$bin" policy check "$tmp/bad.toml"
contains "policy error names file and line" "$tmp/err" "bad.toml:2:14"
check "policy check missing" 1 "$bin" policy check "$tmp/none.toml"

# run: exit status mirrors the command's; the ledger records it; its export feeds audit.
ledger="$tmp/ledger.db"
check "run exit status" 5 "$bin" run --ledger "$ledger" --gpu-source none --job-id r1 --owner asha \
  -- bash -c 'exit 5'
check "run completes" 0 "$bin" run --ledger "$ledger" --gpu-source none --job-id r2 --owner bo \
  -- bash -c 'echo hello'
contains "run passes output through" "$tmp/out" "hello"
check "run of nothing" 2 "$bin" run --gpu-source none
check "run with a bad source" 2 "$bin" run --no-ledger --gpu-source cuda -- true
check "ledger jobs" 0 "$bin" ledger jobs --ledger "$ledger"
contains "ledger lists the failed run" "$tmp/out" "failed"
check "ledger owners" 0 "$bin" ledger owners --ledger "$ledger" --format csv
contains "ledger owners counts" "$tmp/out" "asha,1,1,0,"
check "ledger decisions" 0 "$bin" ledger decisions --ledger "$ledger" --since 1d
contains "ledger decisions has the release" "$tmp/out" "main process exited"
check "ledger export" 0 "$bin" ledger export --ledger "$ledger"
cp "$tmp/out" "$tmp/jobs.csv"
host=$(hostname)
now=$(date +%s)
printf 'timestamp, utilization.gpu [%%]\n%s, 50 %%\n%s, 50 %%\n' $((now - 60)) $((now + 60)) \
  >"$tmp/$host.csv"
check "audit joins the ledger export" 0 "$bin" audit --telemetry "$tmp/$host.csv" \
  --price-per-gpu-hour 1 --jobs "$tmp/jobs.csv" --format json
contains "export rows all accepted" "$tmp/out" '"rows_accepted": 2,'
grep -A6 '"jobs": {' "$tmp/out" | grep -q '"rows_rejected": 0,' && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL ledger export rows rejected by audit"; }

# Reviews: a saved GitHub tree, classified and joined to GPU jobs (figures worked out by hand).
rv="$src/tests/data/reviews"
check "reviews audit" 0 "$bin" reviews audit "$rv/fixture" --jobs "$rv/jobs.csv" \
  --inventory "$rv/inventory.csv" --as-of 2025-03-01 --format json
same "reviews golden" "$tmp/out" "$rv/expected.json"
check "reviews table" 0 "$bin" reviews audit "$rv/fixture" --jobs "$rv/jobs.csv" \
  --inventory "$rv/inventory.csv" --as-of 2025-03-01
contains "reviews headline" "$tmp/out" "11 pull requests across 2 repos: 4 substantive code reviews"
contains "reviews lgtm" "$tmp/out" "8x cost increase, no guardrails.' on acme/train#1 while bob waved it through with 'lgtm'"
contains "reviews long open" "$tmp/out" "acme/train#3 was held open 45 days and fired 3 GPU jobs"
check "reviews missing dir" 1 "$bin" reviews audit "$tmp/nothing"
check "reviews bad pattern" 2 "$bin" reviews audit "$rv/fixture" --warning-pattern "(x"
check "reviews jobs and ledger" 2 "$bin" reviews audit "$rv/fixture" --jobs a --ledger b

check "reviews fetch needs --out" 2 "$bin" reviews fetch --repo a/b
check "reviews fetch needs a repo" 2 "$bin" reviews fetch --out "$tmp/gh"
check "reviews fetch of a bad repo name" 2 "$bin" reviews fetch --out "$tmp/gh" --repo nameonly \
  --api-url http://127.0.0.1:9
check "reviews fetch from nowhere" 1 "$bin" reviews fetch --out "$tmp/gh" --repo a/b \
  --api-url http://127.0.0.1:9 --retries 0

# Every real nvidia-smi capture parses without a rejected row.
if [ -d "$src/../shared/realdata/nvidia-smi" ]; then
  for f in "$src"/../shared/realdata/nvidia-smi/*.csv; do
    check "realdata $(basename "$f")" 0 "$bin" audit --telemetry "$f" --price-per-gpu-hour 1 \
      --format json
    contains "realdata $(basename "$f") clean" "$tmp/out" '"rows_rejected": 0,'
  done
fi

# A FOCUS bill with no inventory: GPU counts come from the telemetry (node-a names GPUs 0 and 1).
small="$src/tests/data/audit/small"
check "focus without inventory" 0 "$bin" audit --telemetry "$small/telemetry" \
  --billing "$small/focus.csv" --format json
contains "focus counts GPUs from telemetry" "$tmp/out" '"gpu_count_from_telemetry": {'
grep -m1 '"cost_total_usd"' "$tmp/out" >"$tmp/got"
check "focus with inventory" 0 "$bin" audit --telemetry "$small/telemetry" \
  --billing "$small/focus.csv" --inventory "$small/inventory.csv" --format json
grep -m1 '"cost_total_usd"' "$tmp/out" >"$tmp/want"
same "focus totals agree with and without inventory" "$tmp/want" "$tmp/got"

# Server-side roll-ups: usage errors (tests/prometheus_test.sh runs them on a real server).
check "rollup without prometheus" 2 "$bin" audit --telemetry "$tmp" --inventory x.csv --rollup 1h
check "rollup with a flat price" 2 "$bin" audit --prometheus http://127.0.0.1:1 \
  --price-per-gpu-hour 1 --from 2025-01-01 --to 2025-01-02 --rollup 1h
contains "rollup with a flat price says why" "$tmp/err" "roll-ups carry no first and last sample"
check "rollup not a multiple of step" 2 "$bin" audit --prometheus http://127.0.0.1:1 \
  --inventory "$src/tests/data/audit/small/inventory.csv" --from 2025-01-01 --to 2025-01-02 \
  --rollup 45s --step 30s
check "backtest refuses rollups" 2 "$bin" backtest --prometheus http://127.0.0.1:1 \
  --inventory "$src/tests/data/audit/small/inventory.csv" --from 2025-01-01 --to 2025-01-02 \
  --rollup 1h

# The report: the audit's figures normalised and mapped to practices, as Markdown, JSON, HTML.
check "report help" 0 "$bin" report --help
contains "report help names --budget" "$tmp/out" "--budget"
check "report demo and telemetry" 2 "$bin" report --demo --telemetry "$tmp"
check "report bad budget" 2 "$bin" report --demo --budget -5
check "report bad format" 2 "$bin" report --demo --format pdf
check "report missing policy" 1 "$bin" report --demo --format json --policy "$tmp/none.toml"
contains "report missing policy names it" "$tmp/err" "$tmp/none.toml"
check "report missing reviews" 1 "$bin" report --demo --format json --reviews "$tmp/none"
printf 'idle_after = "20m"\nsetup_grace = "10m"\n' >"$tmp/policy.toml"
cd "$src/tests/data/audit/small" || exit 1
check "small report md" 0 "$bin" report --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.csv --policy "$tmp/policy.toml" --reviews ../../reviews/fixture --format md
same "small report md golden" "$tmp/out" "$src/tests/data/audit/small/expected-report.md"
check "small report json" 0 "$bin" report --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.csv --format json --budget 100
cd "$src" || exit 1
for key in cost_total_usd cost_below_threshold_usd machines_total machines_never_used; do
  grep -m1 "\"$key\"" "$src/tests/data/audit/small/expected.json" | tr -d ' ,' >"$tmp/want"
  grep -m1 "\"$key\"" "$tmp/out" | tr -d ' ,' >"$tmp/got"
  same "report $key equals audit" "$tmp/want" "$tmp/got"
done
contains "report json budget" "$tmp/out" '"budget_usd": 100,'
contains "report json practices" "$tmp/out" '"practice": "job-scoped machines: release a machine'
check "report html to a file" 0 "$bin" report --demo --out "$tmp/report.html"
contains "report html is offline" "$tmp/report.html" "Apache ECharts (Apache License 2.0), inlined"
grep -q '<script src=\|<link ' "$tmp/report.html" && { failed=$((failed + 1)); echo "FAIL report html loads something"; } || passed=$((passed + 1))
rv="$src/tests/data/reviews"
check "report reviews dollars" 0 "$bin" report \
  --inventory "$rv/inventory.csv" --jobs "$rv/jobs.csv" --reviews "$rv/fixture" --format md
contains "report reviews joined" "$tmp/out" "| no_review | 2 | 3 | 3.0 | \$10.80 |"

# The demo written as files audits to the same figures as the demo in memory.
check "demo small" 0 "$bin" demo --machines 30 --never-used 12 --days 14 --format json
grep -E '"(cost_total_usd|cost_below_threshold_usd|machines_never_used|gpu_hours_total)"' \
  "$tmp/out" >"$tmp/memory"
check "demo write" 0 "$bin" demo --machines 30 --never-used 12 --days 14 --write "$tmp/fleet"
check "demo audit files" 0 "$bin" audit --telemetry "$tmp/fleet/telemetry" \
  --inventory "$tmp/fleet/inventory.csv" --jobs "$tmp/fleet/jobs.csv" --format json
grep -E '"(cost_total_usd|cost_below_threshold_usd|machines_never_used|gpu_hours_total)"' \
  "$tmp/out" >"$tmp/files"
same "demo files equal demo in memory" "$tmp/memory" "$tmp/files"
check "demo table" 0 "$bin" demo
contains "demo headline" "$tmp/out" "never used: 293 of 510 machines"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
