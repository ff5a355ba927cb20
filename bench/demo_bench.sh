#!/usr/bin/env bash
# Benchmark of the built-in demo fleet (510 machines, 182 days, 60 M samples generated and
# audited in memory): `gpuledger demo` (the audit with credits) and `gpuledger report --demo`
# (the per-day breakdown and the page), best of RUNS each, wall time and peak RSS.
# Usage: bench/demo_bench.sh [GPULEDGER]   (env: RUNS=3; builds build/gpuledger when not given)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  bash scripts/build.sh >/dev/null
  bin=build/gpuledger
fi
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

best() {  # best CMD...: prints "seconds max_rss_kb" of the fastest of $runs runs
  local best_s="" best_rss=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>&1
    read -r s rss <"$tmp/time"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s best_rss=$rss; fi
  done
  echo "$best_s $best_rss"
}

echo "| command | wall s | peak RSS MB |"
echo "|---|---:|---:|"
for what in "demo" "demo --format json" "report --demo --out $tmp/report.html"; do
  # shellcheck disable=SC2086
  read -r s rss < <(best "$bin" $what)
  printf '| `gpuledger %s` | %s | %.1f |\n' "${what/$tmp\//}" "$s" "$(awk "BEGIN{print $rss/1024}")"
done
