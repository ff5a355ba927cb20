#!/usr/bin/env bash
# A real PromQL engine from Debian's packages on 127.0.0.1 serves the small hand-computed fleet:
# Prometheus (backfilled with promtool) or VictoriaMetrics (loaded through its import API, the
# same samples); `gpuledger audit --prometheus` must give exactly the figures of the same fleet
# read from nvidia-smi CSV files, and the roll-ups must stay within their documented bounds.
# Usage: prometheus_test.sh PATH/TO/gpuledger SOURCE_DIR [prometheus|victoria-metrics]
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
engine=${3:-prometheus}
case "$engine" in
  prometheus) tools=(prometheus promtool) ;;
  victoria-metrics) tools=(victoria-metrics curl) ;;
  *) echo "FAIL: unknown engine $engine"; exit 1 ;;
esac
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
small="$src/tests/data/audit/small"
samples="$src/tests/data/audit/small-exports/openmetrics.om"
source "$(dirname "$0")/test_helpers.sh"  # wait_for, free_port
port=$(free_port)

start_prometheus() {
  promtool tsdb create-blocks-from openmetrics "$samples" "$tmp/data" >"$tmp/promtool.log" 2>&1 ||
    { cat "$tmp/promtool.log"; exit 1; }
  printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$tmp/prometheus.yml"
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
    >"$tmp/server.log" 2>&1 &
  pid=$!
}
start_victoria_metrics() {
  victoria-metrics -storageDataPath="$tmp/data" -retentionPeriod=100y \
    -httpListenAddr="127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
  pid=$!
  # The same samples in the Prometheus text format (timestamps in milliseconds), imported, then
  # flushed so that queries see them. VictoriaMetrics drops a NaN sample as it takes it in; the
  # audit must come out the same without it (a GPU not read is not monitored either way).
  grep -v '^#' "$samples" | awk '{ $NF = $NF "000"; print }' >"$tmp/import.prom"
  local numbers
  numbers=$(grep -vc ' NaN ' "$tmp/import.prom")
  local url="http://127.0.0.1:$port"
  wait_for 30 "curl -sf -m 2 $url/health >/dev/null"
  curl -sf -m 10 --data-binary @"$tmp/import.prom" "$url/api/v1/import/prometheus" ||
    { echo "FAIL: the import into VictoriaMetrics"; tail -5 "$tmp/server.log"; exit 1; }
  curl -sf -m 10 "$url/internal/force_flush" >/dev/null
  wait_for 30 "[ \"\$(vm_samples $url)\" = $numbers ]" ||
    { echo "FAIL: VictoriaMetrics holds $(vm_samples "$url") of the $numbers samples imported"; exit 1; }
}
vm_samples() {  # the number of samples VictoriaMetrics at URL $1 holds
  curl -s -m 5 "$1/api/v1/export" --data-urlencode 'match[]={__name__=~".+"}' |
    /usr/bin/python3 -c 'import json, sys; print(sum(len(json.loads(l)["values"]) for l in sys.stdin))'
}
start_${engine//-/_}

# The small fleet's hour through the server, as `gpuledger COMMAND "${server[@]}" [FLAG…]`.
server=(--prometheus "http://127.0.0.1:$port" --prometheus-chunk 20m
        --from 2025-03-01T00:00:00Z --to 2025-03-01T01:00:00Z
        --inventory "$small/inventory.csv" --jobs "$small/jobs.csv" --format json)
audit() { "$bin" audit "${server[@]}" "$@"; }
ok=""
for _ in $(seq 150); do  # Prometheus loads its blocks, then answers
  if audit >"$tmp/prom.json" 2>"$tmp/prom.err"; then ok=1; break; fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "FAIL: no answer from $engine"; cat "$tmp/prom.err"; tail -5 "$tmp/server.log"; exit 1
fi
(cd "$small" && "$bin" audit --telemetry telemetry --inventory inventory.csv --jobs jobs.csv \
  --format json) >"$tmp/csv.json"

passed=0
failed=0
agree() {  # agree WHAT FILTER WANT GOT: FILTER's view of the two JSON files is the same
  if diff <("$2" "$3") <("$2" "$4") >"$tmp/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1 through $engine differs from the CSV figures:"; head -40 "$tmp/diff"
  fi
}
figures() { sed -n '/"machines_total"/,/"input"/p' "$1"; }  # all but the input section
decisions() { sed -n '/"jobs": [0-9]/,/"input"/p' "$1"; }  # kills and releases
totals() {  # the first of each headline figure, in a fixed order
  for key in cost_total_usd cost_below_threshold_usd machines_total machines_never_used; do
    grep -m1 "\"$key\"" "$1" | tr -d ' ,'
  done
}
agree "the audit" figures "$tmp/csv.json" "$tmp/prom.json"
# The backtest and the report read the same server.
"$bin" backtest "${server[@]}" >"$tmp/backtest.json" 2>"$tmp/backtest.err" || cat "$tmp/backtest.err"
agree "the backtest" decisions "$small/expected-backtest.json" "$tmp/backtest.json"
"$bin" report "${server[@]}" >"$tmp/report.json" 2>"$tmp/report.err" || cat "$tmp/report.err"
agree "the report" totals "$tmp/csv.json" "$tmp/report.json"

# Server-side roll-ups (the samples are a minute apart): each category within the given
# GPU-hours of the raw path's (docs/sources/prometheus-and-dcgm.md says why they differ).
# With 10-minute buckets the jobs' edges fall on bucket edges: only a step's lookback can differ.
# With 1-hour buckets time inside a bucket is spread evenly, so it moves across job edges.
for case in 10m:0.05 1h:0.3; do
  rollup=${case%:*}
  if audit --rollup "$rollup" --step 1m >"$tmp/rollup.json" 2>"$tmp/rollup.err"; then
    node "$src/tests/compare_audits.mjs" "$tmp/prom.json" "$tmp/rollup.json" "${case#*:}" \
      >"$tmp/compare" 2>&1
    if [ $? -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    sed "s/^/rollup $rollup: /" "$tmp/compare"
  else
    failed=$((failed + 1)); echo "FAIL: --rollup $rollup"; cat "$tmp/rollup.err"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
