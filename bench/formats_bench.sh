#!/usr/bin/env bash
# Every telemetry format, sample for sample, against the nvidia-smi path, `wc -l` and DuckDB.
# Generates a fleet of nvidia-smi logs (build/make_smi_fleet), converts it into a long table,
# timestamped DCGM exporter text (a file per machine) and Prometheus query_range JSON (a file a
# day, one line each) with build/convert_fleet, reads everything into the page cache, then
# times, best of RUNS, `gpuledger audit --price-per-gpu-hour 2 --format json` on each format,
# `wc -l` over the same files, and DuckDB (npm @duckdb/node-api, pinned in bench/duckdb) on the
# long table. Prints a Markdown table: bytes, seconds, MB/s, samples/s, peak RSS, the ratios to
# `wc -l` and to DuckDB, and the below-threshold dollars (equal on every format).
# Usage: bench/formats_bench.sh        env: MACHINES=4 GPUS=8 POLLS=200000 RUNS=2 DIR=/tmp/…
set -euo pipefail
cd "$(dirname "$0")/.."
machines=${MACHINES:-4} gpus=${GPUS:-8} polls=${POLLS:-200000} runs=${RUNS:-2}
dir=${DIR:-/tmp/gpuledger-formats-$machines-$gpus-$polls}
[ -x build/gpuledger ] && [ -x build/convert_fleet ] || bash scripts/build.sh >/dev/null
bin=$(realpath build/gpuledger)
if [ ! -d "$dir/x" ]; then
  build/make_smi_fleet "$dir/smi" "$machines" "$gpus" "$polls" >/dev/null
  build/convert_fleet "$dir/smi" "$dir/x"
fi
(cd bench/duckdb && { [ -d node_modules/@duckdb/node-api ] || npm ci --silent >/dev/null; })
samples=$((machines * gpus * polls))
cat "$dir"/smi/* "$dir"/x/long.csv "$dir"/x/dcgm/* "$dir"/x/prometheus/* >/dev/null  # page cache

best() {  # best WHAT CMD…: the best wall time and its peak RSS over $runs runs, as "S KB"
  local what=$1 out=""
  shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >"$dir/$what.out" 2>"$dir/$what.err" ||
      { echo "bench: $what failed:" >&2; cat "$dir/$what.err" >&2; exit 1; }
    local got
    got=$(cat "$dir/time.txt")
    if [ -z "$out" ] || awk -v a="${got% *}" -v b="${out% *}" 'BEGIN { exit !(a < b) }'; then
      out=$got
    fi
  done
  echo "$out"
}
below() { grep -m1 '"cost_below_threshold_usd"' "$dir/$1.out" | tr -dc '0-9.'; }

declare -A args=(
  [nvidia-smi]="--telemetry $dir/smi"
  [long]="--telemetry $dir/x/long.csv --telemetry-format long --time-col time --machine-col machine --series-col machine --gpu-col gpu --value-col util --memory-col memory"
  [dcgm]="--telemetry $dir/x/dcgm --telemetry-format dcgm"
  [prometheus]="--telemetry $dir/x/prometheus --telemetry-format prometheus"
)
declare -A files=(
  [nvidia-smi]="$dir/smi/*" [long]="$dir/x/long.csv" [dcgm]="$dir/x/dcgm/*"
  [prometheus]="$dir/x/prometheus/*"
)
read -r duck_s duck_kb < <(best duckdb node bench/duckdb/long_table_idle.mjs "$dir/x/long.csv" 2)
duck_usd=$(tr -dc '0-9.,' <"$dir/duckdb.out" | cut -d, -f1)

echo "$machines machines × $gpus GPUs, $samples samples; best of $runs; $(nproc) cores; $(date -u +%F)"
echo
echo "| input | MB | gpuledger s | MB/s | samples/s | peak RSS MB | wc -l s | ÷ wc -l | ÷ DuckDB (long CSV) | below 5 % USD |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for format in nvidia-smi long dcgm prometheus; do
  # shellcheck disable=SC2086  # the file globs and flag lists are meant to split
  bytes=$(cat ${files[$format]} | wc -c)
  # shellcheck disable=SC2086
  read -r wc_s _ < <(best wc wc -l ${files[$format]})
  # shellcheck disable=SC2086
  read -r s kb < <(best "$format" "$bin" audit ${args[$format]} --price-per-gpu-hour 2 --format json)
  awk -v f="$format" -v b="$bytes" -v s="$s" -v kb="$kb" -v w="$wc_s" -v d="$duck_s" \
    -v n="$samples" -v usd="$(below "$format")" 'BEGIN {
      printf "| %s | %.0f | %.2f | %.0f | %.1fM | %.0f | %.2f | %.1f | %.2f | %s |\n",
        f, b / 1e6, s, b / 1e6 / s, n / s / 1e6, kb / 1024, w, s / (w > 0 ? w : 0.01), s / d, usd }'
done
awk -v b="$(wc -c <"$dir/x/long.csv")" -v s="$duck_s" -v kb="$duck_kb" -v n="$samples" \
  -v usd="$duck_usd" 'BEGIN {
    printf "| DuckDB on the long CSV | %.0f | %.2f | %.0f | %.1fM | %.0f | | | 1.00 | %s (last sample counts 0) |\n",
      b / 1e6, s, b / 1e6 / s, n / s / 1e6, kb / 1024, usd }'
