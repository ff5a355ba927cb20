#!/usr/bin/env bash
# Benchmark of the whole `gpuledger audit` process over a large nvidia-smi fleet.
# Generates (once) fleets of MACHINES machines × 8 GPUs at two sizes, warms the page cache,
# then times `wc -l` (the floor: every byte read once) and `gpuledger audit` (best of RUNS),
# and prints MB/s, rows/s, peak RSS and the ratio to wc -l as a Markdown table.
# Usage: bench/audit_bench.sh [DATA_DIR]   (env: MACHINES=8 POLLS=312500 RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${TMPDIR:-/tmp}/gpuledger-bench}
machines=${MACHINES:-8}
polls=${POLLS:-312500}
runs=${RUNS:-3}
bash scripts/build.sh >/dev/null

best() {  # best CMD...: prints "seconds max_rss_kb" of the fastest of $runs runs
  local best_s="" best_rss=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$data/time" "$@" >/dev/null
    read -r s rss <"$data/time"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s best_rss=$rss; fi
  done
  echo "$best_s $best_rss"
}

echo "| rows | GPUs | MB | threads | wc -l s | audit s | MB/s | rows/s | peak RSS MB | audit / wc -l |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for size in half full; do
  n=$polls
  [ "$size" = half ] && n=$((polls / 2))
  dir="$data/$size"
  if [ ! -f "$dir/.done-$machines-$n" ]; then
    rm -rf "$dir"
    build/make_smi_fleet "$dir" "$machines" 8 "$n"
    touch "$dir/.done-$machines-$n"
  fi
  cat "$dir"/*.csv >/dev/null  # into the page cache
  rows=$((machines * 8 * n))
  bytes=$(cat "$dir"/*.csv | wc -c)
  read -r wc_s _ < <(best wc -l "$dir"/*.csv)
  threads_list="0"
  [ "$size" = full ] && threads_list="0 1"
  for threads in $threads_list; do
    read -r audit_s rss_kb < <(best build/gpuledger audit --telemetry "$dir" \
      --price-per-gpu-hour 2 --format json --threads "$threads")
    [ "$threads" = 0 ] && shown=$(nproc) || shown=$threads
    awk -v r="$rows" -v b="$bytes" -v w="$wc_s" -v a="$audit_s" -v m="$rss_kb" \
      -v g=$((machines * 8)) -v t="$shown" \
      'BEGIN { printf "| %d | %d | %.0f | %s | %.2f | %.2f | %.0f | %.1fM | %.1f | %.1f |\n",
               r, g, b / 1e6, t, w, a, b / 1e6 / a, r / a / 1e6, m / 1024, a / w }'
  done
done
