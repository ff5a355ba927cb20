#!/usr/bin/env bash
# A real Prometheus (Debian's package) on 127.0.0.1 serves the small hand-computed fleet,
# backfilled with promtool; `gpuledger audit --prometheus` must give exactly the figures of the
# same fleet read from nvidia-smi CSV files.
# Usage: prometheus_test.sh PATH/TO/gpuledger SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
for tool in prometheus promtool; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
small="$src/tests/data/audit/small"

promtool tsdb create-blocks-from openmetrics "$src/tests/data/audit/small-exports/openmetrics.om" \
  "$tmp/data" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log"; exit 1; }
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$tmp/prometheus.yml"
port=$((20000 + RANDOM % 20000))
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
  >"$tmp/prometheus.log" 2>&1 &
pid=$!

audit() {
  "$bin" audit --prometheus "http://127.0.0.1:$port" --prometheus-chunk 20m \
    --from 2025-03-01T00:00:00Z --to 2025-03-01T01:00:00Z \
    --inventory "$small/inventory.csv" --jobs "$small/jobs.csv" --format json
}
ok=""
for _ in $(seq 150); do  # Prometheus loads its blocks, then answers
  if audit >"$tmp/prom.json" 2>"$tmp/prom.err"; then ok=1; break; fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "FAIL: no answer from Prometheus"; cat "$tmp/prom.err"; tail -5 "$tmp/prometheus.log"; exit 1
fi
(cd "$small" && "$bin" audit --telemetry telemetry --inventory inventory.csv --jobs jobs.csv \
  --format json) >"$tmp/csv.json"

figures() {  # the money and time figures, without the input section
  sed -n '/"machines_total"/,/"input"/p' "$1"
}
if diff <(figures "$tmp/csv.json") <(figures "$tmp/prom.json") >"$tmp/diff"; then
  echo "1 passed, 0 failed"
else
  echo "FAIL: the audit through Prometheus differs from the CSV audit:"; head -40 "$tmp/diff"
  echo "0 passed, 1 failed"; exit 1
fi
