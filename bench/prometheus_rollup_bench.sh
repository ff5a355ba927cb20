#!/usr/bin/env bash
# The raw path against server-side roll-ups on the same data: a demo fleet is written as
# nvidia-smi logs, backfilled into Debian's Prometheus with promtool, and audited through the API
# both ways; prints wall times, response sizes of one chunk, and the figures side by side.
# Usage: bench/prometheus_rollup_bench.sh [MACHINES] [DAYS]   (run from the repository root
# after scripts/build.sh; needs prometheus, promtool and node)
set -euo pipefail
machines=${1:-40}
days=${2:-14}
bin=build/gpuledger
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
"$bin" demo --machines "$machines" --never-used $((machines * 293 / 510)) --days "$days" \
  --write "$tmp/fleet" >/dev/null
node bench/smi_to_openmetrics.mjs "$tmp/fleet/telemetry" "$tmp/fleet.om"
promtool tsdb create-blocks-from openmetrics "$tmp/fleet.om" "$tmp/data" >/dev/null
printf 'global:\n  scrape_interval: 5m\nscrape_configs: []\n' >"$tmp/prometheus.yml"
port=$((20000 + RANDOM % 20000))
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
to=$(date -u -d "2025-01-01 + $days days" +%Y-%m-%dT%H:%M:%SZ)
common=(--prometheus "$url" --from 2025-01-01T00:00:00Z --to "$to"
        --inventory "$tmp/fleet/inventory.csv" --jobs "$tmp/fleet/jobs.csv" --format json)
for _ in $(seq 150); do
  curl -sf "$url/-/ready" >/dev/null && break
  sleep 0.2
done
"$bin" audit "${common[@]}" --prometheus-chunk 1h >/dev/null  # warm the server's caches
timed() {  # timed NAME OUT COMMAND…
  local start end
  start=$(date +%s.%N)
  "${@:3}" >"$2"
  end=$(date +%s.%N)
  printf '%-28s %6.2f s\n' "$1" "$(echo "$end - $start" | bc)"
}
echo "fleet: $machines machines, $days days, $(grep -c . "$tmp/fleet.om") samples"
timed "raw (1h chunks)" "$tmp/raw.json" "$bin" audit "${common[@]}" --prometheus-chunk 1h
timed "raw (6h chunks)" "$tmp/raw6.json" "$bin" audit "${common[@]}" --prometheus-chunk 6h
timed "rollup 1h (step 5m)" "$tmp/rollup.json" "$bin" audit "${common[@]}" --rollup 1h --step 5m
timed "rollup 1d (step 5m)" "$tmp/rollup1d.json" "$bin" audit "${common[@]}" --rollup 1d --step 5m
raw_bytes=$(curl -s -o /dev/null -w '%{size_download}' "$url/api/v1/query" \
  --data-urlencode 'query=DCGM_FI_DEV_GPU_UTIL[1d]' --data-urlencode time=1735775999.999)
rollup_bytes=$(curl -s -o /dev/null -w '%{size_download}' "$url/api/v1/query_range" \
  --data-urlencode 'query=count_over_time((DCGM_FI_DEV_GPU_UTIL)[3600000ms:300000ms])' \
  --data-urlencode start=1735693199.999 --data-urlencode end=1735775999.999 --data-urlencode step=3600)
echo "one day of the fleet over the wire: raw $raw_bytes bytes, rollup 1h $rollup_bytes bytes per expression"
echo "--- raw vs rollup 1h"
node tests/compare_audits.mjs "$tmp/raw.json" "$tmp/rollup.json" 1000000 || true
echo "--- raw vs rollup 1d"
node tests/compare_audits.mjs "$tmp/raw.json" "$tmp/rollup1d.json" 1000000 || true
