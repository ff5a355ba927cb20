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

# same_input NAME AUDIT_JSON BACKTEST_JSON: the backtest accounts for its input as the audit does
# (one loader: files, rows, every rejection and note).
same_input() {
  if /usr/bin/python3 -c 'import json, sys
a, b = (json.load(open(f))["input"] for f in sys.argv[1:3])
sys.exit(0 if a == b else 1)' "$2" "$3"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1"
  fi
}

# report_agrees NAME BASE: BASE.json, BASE.md and BASE.html are one report: the total, the part
# below threshold (dollars and share) and the never-used count, formatted here from the JSON's
# numbers, appear in the Markdown and the HTML.
report_agrees() {
  if /usr/bin/python3 - "$2" <<'PY'; then
import html, json, sys
from decimal import Decimal, ROUND_HALF_UP
def usd(x):  # dollars to the cent, half away from zero, with thousands separators
    return "$" + format(Decimal(repr(x)).quantize(Decimal("0.01"), ROUND_HALF_UP), ",")
def pct(share):
    return str((Decimal(repr(share)) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)) + " %"
base = sys.argv[1]
t = json.load(open(base + ".json"))["totals"]
figures = [
    usd(t["cost_total_usd"]),
    "%s (%s)" % (usd(t["cost_below_threshold_usd"]), pct(t["share_below_threshold"])),
    "%d of %d machines never ran a workload" % (t["machines_never_used"], t["machines_total"]),
]
for ext in ("md", "html"):
    text = open(base + "." + ext, encoding="utf-8").read()
    if ext == "html":
        text = html.unescape(text)
    for f in figures:
        if f not in text:
            print("not in the %s report: %s" % (ext, f))
            sys.exit(1)
PY
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: the reports disagree"
  fi
}

# Exit codes: 0 done, 1 unreadable required input, 2 usage.
check "help" 0 "$bin" --help
check "audit help" 0 "$bin" audit --help
check "demo help" 0 "$bin" demo --help
check "guard help" 0 "$bin" guard --help
check "keep help" 0 "$bin" keep --help
check "guard: a zero sampling interval is a usage error" 2 "$bin" guard --sample-every 0s
check "guard: a bad policy is an error" 1 "$bin" guard --policy /no/such/policy.toml
check "guard: no GPU to guard is an error" 1 "$bin" guard --gpu-source none --no-ledger \
  --no-socket --state-dir "$tmp/guard-state"
check "keep without a guard is an error" 1 "$bin" keep pg:1 1h --reason x --socket "$tmp/none.sock"
check "keep without a reason is a usage error" 2 "$bin" keep pg:1 1h --socket "$tmp/none.sock"
check "keep with a bad duration is a usage error" 2 "$bin" keep pg:1 soon --reason x
check "--version" 0 "$bin" --version
if commit=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null); then
  contains "--version names the commit" "$tmp/out" "gpuledger 0.1.0 (commit $commit"
fi
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
same_input "small: the backtest's input is the audit's" "$tmp/out" expected.json
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

# run never leaves a job behind: a stop signal reaches the job (even one that ignores SIGTERM is
# killed after the grace), the row is closed "interrupted", run exits 128+N; after SIGKILL of
# run itself the watchdog ends the job and the row reads "abandoned".
sig_ledger="$tmp/signals.db"
gone() {  # gone NAME PIDFILE: the pid written there no longer runs
  local pid
  pid=$(cat "$2" 2>/dev/null)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: job pid '${pid}' still runs"; kill -9 "$pid" 2>/dev/null; fi
}
for sig in TERM INT HUP; do
  rm -f "$tmp/job.pid"
  check "run forwards SIG$sig" $((128 + $(kill -l "$sig"))) timeout --preserve-status -s "$sig" 2 \
    "$bin" run --ledger "$sig_ledger" --gpu-source none --job-id "sig-$sig" --kill-grace 1s \
    -- bash -c 'trap "" TERM; echo $$ >'"$tmp/job.pid"'; while :; do sleep 0.1; done'
  gone "SIG$sig leaves no job" "$tmp/job.pid"
done
check "ledger after signals" 0 "$bin" ledger jobs --ledger "$sig_ledger" --format csv
contains "interrupted row" "$tmp/out" "sig-TERM"
grep "sig-TERM" "$tmp/out" | grep -q "interrupted" && grep "sig-TERM" "$tmp/out" | grep -q "143" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL SIGTERM row: $(grep sig-TERM "$tmp/out")"; }
rm -f "$tmp/job.pid"
"$bin" run --ledger "$sig_ledger" --gpu-source none --job-id killed-run \
  -- bash -c 'sleep 300 & echo $! >'"$tmp/job.pid"'; wait' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 50); do [ -s "$tmp/job.pid" ] && break; sleep 0.1; done
kill -9 "$runner"; wait "$runner" 2>/dev/null
for _ in $(seq 30); do kill -0 "$(cat "$tmp/job.pid")" 2>/dev/null || break; sleep 0.1; done
gone "SIGKILL of run leaves no job (its grandchild: the watchdog's work)" "$tmp/job.pid"
check "ledger after SIGKILL" 0 "$bin" ledger jobs --ledger "$sig_ledger" --format csv
grep "killed-run" "$tmp/out" | grep -q "abandoned" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL SIGKILLed run's row: $(grep killed-run "$tmp/out")"; }
# The ledger's exit code is run's own.
check "run exit code recorded" 7 "$bin" run --ledger "$sig_ledger" --gpu-source none --job-id seven \
  -- bash -c 'exit 7'
"$bin" ledger jobs --ledger "$sig_ledger" --format csv | grep "^seven," | grep -q ",7," &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL exit code 7 not recorded"; }
# Everything after -- reaches the command verbatim.
check "run argv verbatim" 0 "$bin" run --no-ledger --gpu-source none -- \
  printf '<%s>' '[1,2]' '[%s]' --lr 3 'a b' ''
contains "run argv verbatim output" "$tmp/out" "<[1,2]><[%s]><--lr><3><a b><>"
# Files the ledger creates are the owner's alone.
[ "$(stat -c %a "$sig_ledger")" = 600 ] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL ledger mode $(stat -c %a "$sig_ledger")"; }

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
check "reviews jobs and ledger file" 2 "$bin" reviews audit "$rv/fixture" --jobs a --ledger-file b
check "reviews ledger-file that is missing" 2 "$bin" reviews audit "$rv/fixture" --ledger-file "$tmp/nothing"
echo "$ledger" >"$tmp/ledger-location"
check "reviews audit --ledger" 0 "$bin" reviews audit "$rv/fixture" --ledger "$ledger" --as-of 2025-03-01 --format json
cp "$tmp/out" "$tmp/reviews-ledger.json"
check "reviews audit --ledger-file" 0 "$bin" reviews audit "$rv/fixture" --ledger-file "$tmp/ledger-location" --as-of 2025-03-01 --format json
same "reviews --ledger-file reads the same ledger as --ledger" "$tmp/out" "$tmp/reviews-ledger.json"
check "reviews ignores \$GPULEDGER_LEDGER (a ledger is optional there)" 0 \
  env GPULEDGER_LEDGER=/no/such/ledger "$bin" reviews audit "$rv/fixture" --jobs "$rv/jobs.csv" --format json

check "reviews fetch needs --out" 2 "$bin" reviews fetch --repo a/b
check "reviews fetch needs a repo" 2 "$bin" reviews fetch --out "$tmp/gh"
check "reviews fetch of a bad repo name" 2 "$bin" reviews fetch --out "$tmp/gh" --repo nameonly \
  --api-url http://127.0.0.1:9
check "reviews fetch from nowhere" 1 "$bin" reviews fetch --out "$tmp/gh" --repo a/b \
  --api-url http://127.0.0.1:9 --retries 0

# Every real capture (ours, and ../shared/realdata when it is there) audits and reports
# without a rejected row, and the report needs no window (it once allocated 12 GB without one).
real=("$src"/tests/data/real/nvidia-smi/*.csv)
if [ -d "$src/../shared/realdata/nvidia-smi" ]; then
  real+=("$src"/../shared/realdata/nvidia-smi/*.csv)
elif [ "${CI:-}" = true ]; then
  failed=$((failed + 1))
  echo "FAIL: ../shared/realdata is missing under CI=true"
fi
for f in "${real[@]}"; do
  name=$(basename "$f")
  check "real $name" 0 "$bin" audit --telemetry "$f" --price-per-gpu-hour 1 --format json
  contains "real $name clean" "$tmp/out" '"rows_rejected": 0,'
  contains "real $name held idle known" "$tmp/out" '"held_idle_usd": 0'
  cp "$tmp/out" "$tmp/real-audit.json"
  check "real $name backtest" 0 "$bin" backtest --telemetry "$f" --price-per-gpu-hour 1 --format json
  same_input "real $name: the backtest's input is the audit's" "$tmp/real-audit.json" "$tmp/out"
  for format in html md json; do
    check "real $name report $format" 0 timeout 20 "$bin" report --telemetry "$f" \
      --price-per-gpu-hour 2.5 --format "$format" --out "$tmp/real-report.$format"
  done
  report_agrees "real $name" "$tmp/real-report"
done
real_dcgm=("$src"/tests/data/real/dcgm-exporter/*.prom)
[ -d "$src/../shared/realdata/dcgm-exporter" ] && real_dcgm+=("$src"/../shared/realdata/dcgm-exporter/*.prom)
check "real dcgm scrapes" 0 "$bin" audit --telemetry "${real_dcgm[@]}" --telemetry-format dcgm \
  --price-per-gpu-hour 1 --scrape-time 2025-11-24T16:00:00Z
contains "real dcgm scrape time said" "$tmp/out" "read as one scrape at 2025-11-24T16:00:00.000Z"
contains "real dcgm machine" "$tmp/out" "i-030791dc5a37cd257"
check "real dcgm scrape at its mtime" 0 "$bin" audit --telemetry "${real_dcgm[@]}" \
  --telemetry-format dcgm --price-per-gpu-hour 1
contains "real dcgm mtime said" "$tmp/out" "the file's modification time"
check "real dcgm report" 0 "$bin" report --telemetry "${real_dcgm[@]}" --telemetry-format dcgm \
  --price-per-gpu-hour 1 --format html --out "$tmp/dcgm-report.html"
check "scrape without utilisation" 1 "$bin" audit --telemetry \
  "$src/tests/data/real/dcgm-exporter/nvidia-readme.prom" --telemetry-format dcgm \
  --price-per-gpu-hour 1
contains "scrape without utilisation names it" "$tmp/err" "nvidia-readme.prom"

# No accepted sample is an error naming the files and the main reason, never "+inf → -inf".
: >"$tmp/empty.csv"
printf 'timestamp, utilization.gpu [%%]\n' >"$tmp/header-only.csv"
printf 'timestamp, utilization.gpu [%%]\n2025/01/01 00:00:00.000, [N/A]\n2025/01/01 00:00:10.000, [N/A]\n' \
  >"$tmp/all-rejected.csv"
for f in empty header-only; do
  check "$f telemetry" 1 "$bin" audit --telemetry "$tmp/$f.csv" --price-per-gpu-hour 1
  contains "$f telemetry says so" "$tmp/err" "no GPU sample in the telemetry"
done
check "all rows rejected" 1 "$bin" audit --telemetry "$tmp/all-rejected.csv" --price-per-gpu-hour 1
contains "all rows rejected names the reason" "$tmp/err" "2 as util_not_a_number (first at $tmp/all-rejected.csv:2"
check "all rows rejected, backtest" 1 "$bin" backtest --telemetry "$tmp/all-rejected.csv" \
  --price-per-gpu-hour 1
check "all rows rejected, report" 1 "$bin" report --telemetry "$tmp/all-rejected.csv" \
  --price-per-gpu-hour 1 --out "$tmp/r.html"
mkdir -p "$tmp/mixed/sub"
cp "$src/tests/data/real/nvidia-smi/rckola-rectified-point-flow.csv" "$tmp/mixed/node.csv"
echo hi >"$tmp/mixed/notes.txt"
check "mixed directory" 0 "$bin" audit --telemetry "$tmp/mixed" --price-per-gpu-hour 1
contains "mixed directory names what it skipped" "$tmp/out" "notes.txt (not .csv)"
contains "mixed directory names the folder it skipped" "$tmp/out" "sub (a directory"
mkdir -p "$tmp/no-csv" && echo hi >"$tmp/no-csv/a.txt"
check "directory without logs" 1 "$bin" audit --telemetry "$tmp/no-csv" --price-per-gpu-hour 1
contains "directory without logs says what it skipped" "$tmp/err" "a.txt (not .csv)"

# A memory table is not utilisation; given as memory it feeds the held-idle lens.
printf 'time,series,value\n2025-01-01T00:00:00Z,g1,12\n2025-01-01T00:01:00Z,g1,0\n2025-01-01T00:02:00Z,g1,0\n' \
  >"$tmp/util.csv"
printf 'time,series,value\n2025-01-01T00:00:00Z,g1,23552\n2025-01-01T00:01:00Z,g1,23552\n2025-01-01T00:02:00Z,g1,0\n' \
  >"$tmp/mem.csv"
check "memory table as telemetry" 1 "$bin" audit --telemetry "$tmp/mem.csv" \
  --telemetry-format long --price-per-gpu-hour 60
contains "memory table as telemetry names the flag" "$tmp/err" "--memory-telemetry"
check "memory telemetry" 0 "$bin" audit --telemetry "$tmp/util.csv" --telemetry-format long \
  --memory-telemetry "$tmp/mem.csv" --price-per-gpu-hour 60 --format json
contains "memory telemetry held idle" "$tmp/out" '"held_idle_usd": 1,'
check "memory telemetry, table" 0 "$bin" audit --telemetry "$tmp/util.csv" --telemetry-format long \
  --memory-telemetry "$tmp/mem.csv" --price-per-gpu-hour 60
contains "held idle practice named" "$tmp/out" "stop idle sessions and notebooks that hold a GPU"
check "no memory, held idle unknown" 0 "$bin" audit --telemetry "$tmp/util.csv" \
  --telemetry-format long --price-per-gpu-hour 60 --format json
contains "held idle unknown is null" "$tmp/out" '"held_idle_usd": null,'
check "bad held memory" 2 "$bin" audit --telemetry "$tmp/util.csv" --price-per-gpu-hour 1 \
  --held-memory lots
check "memory telemetry with nvidia-smi" 2 "$bin" audit --telemetry "$tmp/mixed" \
  --memory-telemetry "$tmp/mem.csv" --price-per-gpu-hour 1

# Typos get "did you mean"; a bad number one line; reading a ledger never creates one.
check "unknown command" 2 "$bin" audti
contains "unknown command suggests" "$tmp/err" "did you mean 'audit'?"
check "unknown flag" 2 "$bin" audit --telemetri x
contains "unknown flag suggests" "$tmp/err" "did you mean '--telemetry'?"
check "unknown ledger command" 2 "$bin" ledger jbos
contains "unknown ledger command suggests" "$tmp/err" "did you mean 'jobs'?"
check "price not a number" 2 "$bin" audit --telemetry x --price-per-gpu-hour two
contains "price not a number, one line" "$tmp/err" "--price-per-gpu-hour: 'two' is not a number >= 0"
[ "$(wc -l <"$tmp/err")" -le 2 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL price error is long"; }
check "ledger read of a typo" 1 "$bin" ledger jobs --ledger "$tmp/typo/x.db"
[ -e "$tmp/typo" ] && { failed=$((failed + 1)); echo "FAIL ledger read created $tmp/typo"; } || passed=$((passed + 1))

# A FOCUS bill alone: GPU machines found by instance type, all time unmonitored, attributed.
check "bill alone" 0 "$bin" audit --billing "$src/tests/data/focus/focus-1.0-aws-gpu.csv" \
  --format json
contains "bill alone unmonitored" "$tmp/out" '"unmonitored": 4.872,'
contains "bill alone attributed" "$tmp/out" '"asha": 4.872'
check "bill alone report" 0 "$bin" report --billing "$src/tests/data/focus/focus-1.0-aws-gpu.csv" \
  --format html --out "$tmp/bill-report.html"

# --owners rules: a bill line's tag names the team; a DCGM label names the owner.
cat >"$tmp/owners.toml" <<'EOF'
[[owner]]
match = { "tag:team" = "(.*)" }
owner = "lead-of-$1"
project = "from-tag"

[[owner]]
match = { "label:modelName" = "NVIDIA (.*)", machine = "i-(.*)" }
owner = "$1-pool"
team = "aws-$2"
EOF
check "owners from a tag" 0 "$bin" audit --billing "$src/tests/data/focus/focus-1.0-aws-gpu.csv" \
  --owners "$tmp/owners.toml" --format json
contains "owners: the bill's owner tag stays" "$tmp/out" '"asha": 4.872'
contains "owners: the rule names the project" "$tmp/out" '"from-tag": 4.872'
check "owners from a label" 0 "$bin" audit --telemetry \
  "$src/tests/data/real/dcgm-exporter/cncf-kops-l4.prom" --telemetry-format dcgm \
  --price-per-gpu-hour 1 --scrape-time 2025-11-24T16:00:00Z --owners "$tmp/owners.toml" --format json
contains "owners: a label names the owner" "$tmp/out" '"L4-pool": 0.0833'
contains "owners: capture groups of two keys" "$tmp/out" '"aws-030791dc5a37cd257": 0.0833'
printf '[[owner]]\nmatch = { host = "x" }\nteam = "a"\n' >"$tmp/bad-owners.toml"
check "owners with a bad key" 1 "$bin" audit --billing "$src/tests/data/focus/focus-1.0-aws-gpu.csv" \
  --owners "$tmp/bad-owners.toml"
contains "owners with a bad key names the place" "$tmp/err" "bad-owners.toml:2:"

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
grep -E '"(ran_out|left_usd|summary)"' "$tmp/out" >"$tmp/memory-credits"
check "demo write" 0 "$bin" demo --machines 30 --never-used 12 --days 14 --write "$tmp/fleet"
check "demo audit files" 0 "$bin" audit --telemetry "$tmp/fleet/telemetry" \
  --inventory "$tmp/fleet/inventory.csv" --jobs "$tmp/fleet/jobs.csv" \
  --credits "$tmp/fleet/credits.csv" --format json
grep -E '"(cost_total_usd|cost_below_threshold_usd|machines_never_used|gpu_hours_total)"' \
  "$tmp/out" >"$tmp/files"
same "demo files equal demo in memory" "$tmp/memory" "$tmp/files"
grep -E '"(ran_out|left_usd|summary)"' "$tmp/out" >"$tmp/files-credits"
same "demo credits.csv gives the demo's batches" "$tmp/memory-credits" "$tmp/files-credits"
contains "demo batches burned" "$tmp/files-credits" "ran out on"
check "demo table" 0 "$bin" demo
contains "demo headline" "$tmp/out" "never used: 293 of 510 machines"

# Credits and budgets on the small case (worked out by hand in the audit's golden: $8.10 billed).
cd "$src/tests/data/audit/small" || exit 1
printf 'date,amount_usd,label\n2025-02-01,5,second\n2025-01-01,3,first\n' >"$tmp/credits.csv"
check "credits" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv --jobs jobs.csv \
  --credits "$tmp/credits.csv" --format json
contains "credits: the older batch first" "$tmp/out" '"label": "first"'
contains "credits: uncovered past the last batch" "$tmp/out" '"uncovered_usd": 0.1'
check "credits table" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv \
  --jobs jobs.csv --credits "$tmp/credits.csv"
contains "credits sentence" "$tmp/out" "first (\$3.00, bought 1 Jan 2025) ran out on 1 Mar 2025"
printf 'date,amount_usd,label\n2025-02-01,-5,bad\n' >"$tmp/bad-credits.csv"
check "a bad credits row is an error" 1 "$bin" audit --telemetry telemetry \
  --inventory inventory.csv --credits "$tmp/bad-credits.csv"
contains "bad credits row names file:line" "$tmp/err" "bad-credits.csv:2"
check "--credits focus without a bill" 2 "$bin" audit --telemetry telemetry \
  --inventory inventory.csv --credits focus
printf 'period = "month"\n[budgets]\nvision = 10\n"owner:asha" = 2\n' >"$tmp/budgets.toml"
check "budgets check records" 0 "$bin" budgets check --telemetry telemetry \
  --inventory inventory.csv --jobs jobs.csv --budgets "$tmp/budgets.toml" \
  --ledger "$tmp/budgets.db"
contains "budgets: asha over" "$tmp/out" "owner asha: \$4.50 of \$2.00 in 2025-03 (225 %, over budget)"
contains "budgets: 100 % alert recorded" "$tmp/out" "alert owner:asha at 100 %: recorded"
check "budgets check again" 0 "$bin" budgets check --telemetry telemetry \
  --inventory inventory.csv --jobs jobs.csv --budgets "$tmp/budgets.toml" \
  --ledger "$tmp/budgets.db"
contains "budgets: each alert once" "$tmp/out" "alert owner:asha at 100 %: already sent"
# A webhook that refuses (400: not worth trying again): exit 1, tried again by the next check.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(400); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" &
hook=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
printf 'period = "month"\n[budgets]\nnlp = 1\n' >"$tmp/budgets2.toml"
check "budgets: a failed webhook exits 1" 1 "$bin" budgets check --telemetry telemetry \
  --inventory inventory.csv --jobs jobs.csv --budgets "$tmp/budgets2.toml" \
  --ledger "$tmp/budgets.db" --webhook "http://127.0.0.1:$port/hook"
contains "budgets: failed alert said" "$tmp/out" "alert team:nlp at 50 %: failed"
check "budgets: a failed alert is sent again" 1 "$bin" budgets check --telemetry telemetry \
  --inventory inventory.csv --jobs jobs.csv --budgets "$tmp/budgets2.toml" \
  --ledger "$tmp/budgets.db" --webhook "http://127.0.0.1:$port/hook"
contains "budgets: not marked sent" "$tmp/out" "alert team:nlp at 50 %: failed"
kill "$hook" 2>/dev/null
# The same alerts to Slack (a local receiver standing in for the incoming webhook): blocks.
mkdir -p "$tmp/slack"
/usr/bin/python3 "$src/tests/notify_receiver.py" "$tmp/slack" 0 >"$tmp/slack.port" &
hook=$!
for _ in $(seq 100); do [ -s "$tmp/slack.port" ] && break; sleep 0.1; done
check "budgets: alerts to Slack" 0 "$bin" budgets check --telemetry telemetry \
  --inventory inventory.csv --jobs jobs.csv --budgets "$tmp/budgets2.toml" \
  --ledger "$tmp/budgets-slack.db" --notify "slack:http://127.0.0.1:$(cat "$tmp/slack.port")/T/B/x"
contains "budgets: Slack alert said sent" "$tmp/out" "alert team:nlp at 50 %: sent"
contains "budgets: a Slack header block" "$tmp/slack/001.json" \
  '"type":"header","text":{"type":"plain_text","text":"gpuledger budgets: team:nlp reached 50 % of its budget"}'
contains "budgets: its facts" "$tmp/slack/001.json" '"text":"*Budget per period*\n$1.00"'
kill "$hook" 2>/dev/null
# The digest from a ledger: asha's notebook on GPUs 0 and 1 of n1 killed at 12:00, n1's GPU 1
# next used at 15:00 (bo): 2 GPUs × 3 h = 6 GPU-hours freed at the job's own $2.50: $15.
"$bin" run --ledger "$tmp/digest.db" --gpu-source none --job-id schema -- true >/dev/null 2>&1
job() {  # job ID OWNER HOST GPUS START END STATUS GPU_HOURS COST
  sqlite3 "$tmp/digest.db" "INSERT INTO jobs (job_id, owner, labels, command, host, gpus, start_ms,
    end_ms, status, killed_by, gpu_hours, cost_usd, repo, commit_sha, pr, dirty, output_tail)
    VALUES ('$1', '$2', '', 'python nb.py', '$3', '$4', $(date -ud "$5" +%s)000,
    $(date -ud "$6" +%s)000, '$7', '', $8, $9, '', '', '', 0, '')"
}
job A asha n1 "0;1" "2025-12-02 10:00" "2025-12-02 12:00" killed 4 10
job B bo n1 "1" "2025-12-02 15:00" "2025-12-02 16:00" completed 1 2.5
sqlite3 "$tmp/digest.db" "INSERT INTO decisions (job_id, at_ms, kind, rule, explanation,
  gpu_hours_used, gpu_hours_saved, usd_saved, granted_by)
  VALUES ('A', $(date -ud "2025-12-02 12:00" +%s)000, 'kill', 'idle', 'idle 30m', 4, 0, 0, '')"
check "digest: json" 0 "$bin" digest --ledger "$tmp/digest.db" --to 2025-12-08T00:00:00Z \
  --since 7d --format json
contains "digest: the kill freed 6 GPU-hours" "$tmp/out" '"freed_gpu_hours": 6,'
contains "digest: worth \$15" "$tmp/out" '"freed_usd": 15,'
contains "digest: the fleet spent \$12.50" "$tmp/out" '"usd": 12.5,'
mkdir -p "$tmp/slack-digest"
/usr/bin/python3 "$src/tests/notify_receiver.py" "$tmp/slack-digest" 0 >"$tmp/slack-digest.port" &
hook=$!
for _ in $(seq 100); do [ -s "$tmp/slack-digest.port" ] && break; sleep 0.1; done
check "digest: sent to Slack" 0 "$bin" digest --ledger "$tmp/digest.db" \
  --to 2025-12-08T00:00:00Z --notify "slack:http://127.0.0.1:$(cat "$tmp/slack-digest.port")/x"
contains "digest: markdown" "$tmp/out" "- Freed by kills: 6.0 GPU-hours (\$15.00)"
check "digest: the fleet's message and one per owner" 0 test "$(ls "$tmp/slack-digest" | wc -l)" -eq 3
contains "digest: asha's message" "$tmp/slack-digest/002.json" \
  '"plain_text","text":"gpuledger digest for asha: 2025-12-01T00:00:00.000Z to 2025-12-08T00:00:00.000Z"'
kill "$hook" 2>/dev/null
# Cost per experiment: j1 and j2 of the small fleet in experiment detector-v2 (runs r1, r2). By
# hand (README): j1 $1.80 job_active, 0.5 GPU-h; j2 $0.90 failed_job, 0.25 GPU-h — $2.70, 0.75
# GPU-h, a third failed, none idle; the rest, $5.40 over 2.25 GPU-h, is all idle: "(none)".
printf 'job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr,experiment,run\n%s\n%s\n' \
  'j1,node-a,0,bruno,2025-03-01T00:00:00Z,2025-03-01T00:30:00Z,completed,0,acme/det,abc123,12,detector-v2,r1' \
  'j2,node-a,1,chen,2025-03-01T00:05:00Z,2025-03-01T00:20:00Z,failed,1,acme/det,,,detector-v2,r2' \
  >"$tmp/experiment-jobs.csv"
check "audit --group-by experiment" 0 "$bin" audit --telemetry telemetry --inventory inventory.csv \
  --jobs "$tmp/experiment-jobs.csv" --group-by experiment --format json
cp "$tmp/out" "$tmp/experiments.json"
check "audit --group-by experiment: the figures worked out by hand" 0 /usr/bin/python3 -c '
import json, sys
g = {e["experiment"]: e for e in json.load(open(sys.argv[1]))["experiments"]}
d, n = g["detector-v2"], g["(none)"]
assert (d["usd"], d["gpu_hours"], d["idle_usd"], d["failed_usd"], d["jobs"]) == (2.7, 0.75, 0, 0.9, 2), d
assert abs(d["failed_share"] - 1 / 3) < 1e-6, d
assert (n["usd"], n["gpu_hours"], n["idle_usd"], n["jobs"]) == (5.4, 2.25, 5.4, 0), n
assert list(g) == ["(none)", "detector-v2"]  # costliest first
' "$tmp/experiments.json"
check "audit --group-by run --format csv" 0 "$bin" audit --telemetry telemetry \
  --inventory inventory.csv --jobs "$tmp/experiment-jobs.csv" --group-by run --format csv
contains "the CSV: one row per run" "$tmp/out" "r2,0.90,0.2500,0.00,0.00,0.90,1"
check "audit --group-by pr: a table section" 0 "$bin" audit --telemetry telemetry \
  --inventory inventory.csv --jobs "$tmp/experiment-jobs.csv" --group-by pr
contains "the table: PR 12 is j1's \$1.80" "$tmp/out" "  12                                            \$1.80"
check "--group-by: only what it knows" 2 "$bin" audit --telemetry telemetry \
  --inventory inventory.csv --group-by team
printf '# sinks\nslack:http://127.0.0.1:9/x\npager:http://127.0.0.1:9/y\n' >"$tmp/sinks"
check "a bad line of --notify-file is a usage error" 2 "$bin" digest --ledger "$tmp/digest.db" \
  --notify-file "$tmp/sinks"
contains "it names the file and line" "$tmp/err" "$tmp/sinks:3"
# The digest from the telemetry, with no ledger: the small fleet's hour as its README works it
# out by hand — $8.10 billed; idle: node-b never used $0.90 + idle outside jobs $4.50 = $5.40;
# team nlp $0.90 (node-b), vision $7.20; the top practice idle_outside_jobs at $4.50; nothing
# billed the hour before; memory read, none held idle. A $20 batch bought that day: $11.90 left.
printf 'date,amount_usd,label\n2025-03-01,20,march\n' >"$tmp/digest-credits.csv"
check "digest: from the telemetry alone" 0 "$bin" digest --ledger "$tmp/no-ledger.db" \
  --telemetry telemetry --inventory inventory.csv --jobs jobs.csv --credits "$tmp/digest-credits.csv" \
  --to 2025-03-01T01:00:00Z --since 1h --format json
contains "digest: says it read no ledger" "$tmp/err" "says nothing of jobs or autokill"
cp "$tmp/out" "$tmp/digest-telemetry.json"
check "digest: the telemetry's figures, worked out by hand" 0 /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["spend"]
f = s["fleet"]
assert (f["usd"], f["idle_usd"], f["previous_usd"], f["held_idle_usd"]) == (8.1, 5.4, 0, 0), f
assert abs(f["idle_share"] - 5.4 / 8.1) < 1e-6, f
assert [(p["category"], p["usd"]) for p in f["top_practices"]] == \
    [("idle_outside_jobs", 4.5), ("never_used", 0.9), ("failed_job", 0.9)], f
assert {t: v["usd"] for t, v in s["teams"].items()} == {"nlp": 0.9, "vision": 7.2}, s["teams"]
assert s["teams"]["nlp"]["idle_usd"] == 0.9 and s["teams"]["vision"]["idle_usd"] == 4.5
assert s["owners"]["asha"]["usd"] == 4.5, s["owners"]
assert "11.90" in s["credits_runway"], s["credits_runway"]
' "$tmp/digest-telemetry.json"
mkdir -p "$tmp/slack-teams"
/usr/bin/python3 "$src/tests/notify_receiver.py" "$tmp/slack-teams" 0 >"$tmp/slack-teams.port" &
hook=$!
for _ in $(seq 100); do [ -s "$tmp/slack-teams.port" ] && break; sleep 0.1; done
check "digest: the telemetry's digest sent" 0 "$bin" digest --ledger "$tmp/no-ledger.db" \
  --telemetry telemetry --inventory inventory.csv --jobs jobs.csv --to 2025-03-01T01:00:00Z \
  --since 1h --notify "slack:http://127.0.0.1:$(cat "$tmp/slack-teams.port")/x"
check "digest: the fleet's message and one per team" 0 test "$(ls "$tmp/slack-teams" | wc -l)" -eq 3
contains "digest: a team's message" "$tmp/slack-teams/003.json" \
  '"text":"gpuledger digest for team vision: 2025-03-01T00:00:00.000Z to 2025-03-01T01:00:00.000Z"'
contains "digest: its top practices, a section of their own" "$tmp/slack-teams/003.json" \
  '*Top practices*\n• $4.50 (idle_outside_jobs): job-scoped machines'
kill "$hook" 2>/dev/null
# A run's identity, from the environment its command inherits: MLflow and GitHub Actions, then
# W&B and GitLab CI; flags win. Recorded on its ledger row and exported with the jobs.
check "run records what MLflow and GitHub Actions name" 0 env MLFLOW_EXPERIMENT_NAME=detector-v2 \
  MLFLOW_RUN_ID=a1b2 GITHUB_REPOSITORY=acme/det GITHUB_SHA=0123abcd GITHUB_REF=refs/pull/61/merge \
  GITHUB_RUN_ID=9001 "$bin" run --ledger "$tmp/identity.db" --gpu-source none --job-id gh -- true
check "run records what W&B and GitLab CI name" 0 env WANDB_ENTITY=acme WANDB_PROJECT=det \
  WANDB_RUN_ID=3kq9 CI_PROJECT_PATH=ml/det CI_MERGE_REQUEST_IID=14 CI_PIPELINE_ID=77 \
  "$bin" run --ledger "$tmp/identity.db" --gpu-source none --job-id gl --experiment given -- true
check "ledger jobs --format json" 0 "$bin" ledger jobs --ledger "$tmp/identity.db" --format json
cp "$tmp/out" "$tmp/identity.json"
check "the identities are on the rows" 0 /usr/bin/python3 -c '
import json, sys
j = {r["job_id"]: r for r in json.load(open(sys.argv[1]))}
gh, gl = j["gh"], j["gl"]
assert (gh["experiment"], gh["run"], gh["repo"], gh["pr"]) == ("detector-v2", "a1b2", "acme/det", "61"), gh
assert "ci_run=9001" in gh["labels"], gh
assert (gl["experiment"], gl["run"], gl["repo"], gl["pr"]) == ("given", "3kq9", "ml/det", "14"), gl
' "$tmp/identity.json"
check "ledger export" 0 "$bin" ledger export --ledger "$tmp/identity.db"
contains "the export carries experiment and run" "$tmp/out" ",61,run,detector-v2,a1b2"
# Policy over_budget: run warns or refuses new work of an owner past 100 % this month.
"$bin" run --ledger "$tmp/over.db" --gpu-source none --job-id first -- true >/dev/null 2>&1
sqlite3 "$tmp/over.db" "INSERT INTO alerts VALUES ('owner:asha', '$(date -u +%Y-%m)', 100, 0, 'asha at 120 %')"
printf 'over_budget = "refuse"\n' >"$tmp/refuse.toml"
check "run refuses an owner over budget" 1 "$bin" run --ledger "$tmp/over.db" --gpu-source none \
  --policy "$tmp/refuse.toml" --owner asha -- true
contains "refusal says why" "$tmp/err" "owner:asha is past its budget"
check "run warns by default" 0 "$bin" run --ledger "$tmp/over.db" --gpu-source none \
  --owner asha --job-id warned -- true
contains "warning says so" "$tmp/err" "over_budget = \"warn\": it runs"
check "others run" 0 "$bin" run --ledger "$tmp/over.db" --gpu-source none \
  --policy "$tmp/refuse.toml" --owner bo -- true
check "over-budget decision recorded" 0 "$bin" ledger decisions --ledger "$tmp/over.db" --format csv
contains "decision over_budget" "$tmp/out" "warned,"
contains "decision rule" "$tmp/out" ",warn,over_budget,"
# Daylight saving (issue 23 item 5): a log written in Europe/Berlin local time across the
# 2024-10-27 fall-back (02:00-03:00 happens twice) audits exactly as its UTC copy: 240 one-minute
# polls from 2024-10-26T23:00Z, one GPU at 1 USD/hour, $4.00 and nothing unmonitored; the 120
# readings of the repeated hour are noted. A time in the spring-forward gap is rejected.
mkdir -p "$tmp/dst"
/usr/bin/python3 - "$tmp/dst" <<'PY'
import sys, datetime, zoneinfo
out = sys.argv[1]
berlin = zoneinfo.ZoneInfo("Europe/Berlin")
start = datetime.datetime(2024, 10, 26, 23, 0, tzinfo=datetime.timezone.utc)
head = "timestamp, index, utilization.gpu [%], memory.used [MiB]\n"
with open(out + "/local.csv", "w") as local, open(out + "/utc.csv", "w") as utc:
    local.write(head), utc.write(head)
    for i in range(240):
        t = start + datetime.timedelta(minutes=i)
        util = "90 %" if i % 3 else "0 %"
        for f, tt in ((local, t.astimezone(berlin)), (utc, t)):
            f.write(tt.strftime("%Y/%m/%d %H:%M:%S.000") + ", 0, " + util + ", 10 MiB\n")
with open(out + "/gap.csv", "w") as f:
    f.write(head + "2024/03/31 01:59:00.000, 0, 5 %, 1 MiB\n2024/03/31 02:30:00.000, 0, 5 %, 1 MiB\n"
            "2024/03/31 03:00:00.000, 0, 5 %, 1 MiB\n")
PY
check "dst: the local log" 0 "$bin" audit --telemetry "$tmp/dst/local.csv" --machine m \
  --price-per-gpu-hour 1 --tz Europe/Berlin --format json
cp "$tmp/out" "$tmp/dst/local.json"
check "dst: its UTC copy" 0 "$bin" audit --telemetry "$tmp/dst/utc.csv" --machine m \
  --price-per-gpu-hour 1 --format json
cp "$tmp/out" "$tmp/dst/utc.json"
if /usr/bin/python3 - "$tmp/dst/local.json" "$tmp/dst/utc.json" <<'PY'; then
import json, sys
local, utc = (json.load(open(f)) for f in sys.argv[1:3])
ok = (local["cost_total_usd"] == utc["cost_total_usd"] == 4
      and local["categories"]["unmonitored"] == 0
      and local["window"] == utc["window"]
      and local["input"]["telemetry"]["notes"]["ambiguous_local_time"]["count"] == 120
      and "out_of_order" not in local["input"]["telemetry"]["notes"])
sys.exit(0 if ok else 1)
PY
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL dst: the local log does not audit as its UTC copy"
  head -c 1500 "$tmp/dst/local.json"
fi
check "dst: the spring-forward gap" 0 "$bin" audit --telemetry "$tmp/dst/gap.csv" --machine m \
  --price-per-gpu-hour 1 --tz Europe/Berlin
contains "dst: a skipped local time is rejected with its reason" "$tmp/out" \
  "nonexistent_local_time"
# Inputs that are not telemetry are named (issue 23 item 12): the audit's other tables in a
# telemetry directory are skipped by their header, compressed and UTF-16 files are refused.
mkdir -p "$tmp/tables"
cp "$src/tests/data/audit/small/telemetry/"*.csv "$src/tests/data/audit/small/jobs.csv" \
  "$src/tests/data/audit/small/focus.csv" "$tmp/tables/"
check "other tables in a telemetry directory" 0 "$bin" audit --telemetry "$tmp/tables" \
  --inventory "$src/tests/data/audit/small/inventory.csv" --format json
contains "a jobs table is skipped by its header" "$tmp/out" "a jobs table: give it as --jobs"
contains "a bill is skipped by its header" "$tmp/out" "a FOCUS bill: give it as --billing"
contains "no row of them is rejected" "$tmp/out" '"rows_read": 153'
gzip -c "$src/tests/data/real/nvidia-smi/rckola-rectified-point-flow.csv" >"$tmp/log.csv.gz"
check "a gzip log is refused" 1 "$bin" audit --telemetry "$tmp/log.csv.gz" --price-per-gpu-hour 1
contains "a gzip log is named as such" "$tmp/err" "is gzip-compressed"
iconv -f UTF-8 -t UTF-16 "$src/tests/data/real/nvidia-smi/rckola-rectified-point-flow.csv" \
  >"$tmp/log16.csv"
check "a UTF-16 log is refused" 1 "$bin" audit --telemetry "$tmp/log16.csv" --price-per-gpu-hour 1
contains "a UTF-16 log is named as such" "$tmp/err" "is UTF-16 text"
cd "$src" || exit 1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
