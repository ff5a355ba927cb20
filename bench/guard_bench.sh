#!/usr/bin/env bash
# What the node guard costs its node: the real `gpuledger guard` binary watching 8 GPUs × 256
# real processes (sleeping, each in its own process group, reported by the test build's fake
# libnvidia-ml.so.1, which answers from a parsed state file as a driver answers from memory),
# with /metrics served, the readings recorded and the ledger written. Prints CPU per sample,
# the share of one core at each sampling interval, and peak RSS, as a Markdown table.
# Usage: bench/guard_bench.sh   (env: PROCS=256 GPUS=8 SECONDS_EACH=60 INTERVALS="1s 250ms")
set -euo pipefail
cd "$(dirname "$0")/.."
procs=${PROCS:-256}
gpus=${GPUS:-8}
seconds=${SECONDS_EACH:-60}
intervals=${INTERVALS:-"1s 250ms"}
bash scripts/build.sh >/dev/null
bin=$PWD/build/gpuledger
fake=$PWD/build/libfake_nvml.so
[ -e "$fake" ] || { echo "build the tests first (bash scripts/test.sh builds libfake_nvml.so)"; exit 1; }
tmp=$(mktemp -d)
set -m  # each sleeper its own process group
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq "$procs"); do
  sleep 3600 &
  pids+=($!)
done
{
  for g in $(seq 0 $((gpus - 1))); do echo "gpu $g util $((g % 2 * 60)) mem 40000"; done
  i=0
  for p in "${pids[@]}"; do
    echo "proc $((i % gpus)) $p 150 util $((i % 7))"
    i=$((i + 1))
  done
} >"$tmp/nvml.state"
# A policy that never fires in the run: the cost measured is watching, not acting.
printf 'setup_grace = "10h"\nidle_after = "10h"\nrelease_after = "10h"\n' >"$tmp/policy.toml"
ticks=$(getconf CLK_TCK)

echo "| GPUs | processes | sample every | samples | CPU ms per sample | share of one core | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for every in $intervals; do
  rm -rf "$tmp/state" "$tmp/rec"
  GPULEDGER_NVML_LIBRARY=$fake FAKE_NVML_STATE=$tmp/nvml.state \
    "$bin" guard --policy "$tmp/policy.toml" --gpu-source nvml --sample-every "$every" \
    --state-dir "$tmp/state" --socket "$tmp/guard.sock" --record "$tmp/rec" \
    --metrics-listen "127.0.0.1:$((20000 + RANDOM % 20000))" 2>"$tmp/guard.log" &
  g=$!
  sleep 5  # warm: every process read once, the ledger created
  cpu() { awk '{print $14 + $15}' "/proc/$g/stat"; }
  c0=$(cpu)
  s0=$(date +%s.%N)
  sleep "$seconds"
  c1=$(cpu)
  s1=$(date +%s.%N)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$g/status")
  kill -TERM "$g"
  wait "$g" || true
  n=$(awk -v a="$s0" -v b="$s1" -v e="$every" 'BEGIN {
        ms = e ~ /ms$/ ? substr(e, 1, length(e) - 2) : substr(e, 1, length(e) - 1) * 1000;
        printf "%d", (b - a) * 1000 / ms }')
  awk -v c="$((c1 - c0))" -v t="$ticks" -v n="$n" -v s0="$s0" -v s1="$s1" -v hwm="$hwm" \
    -v g="$gpus" -v p="$procs" -v e="$every" 'BEGIN {
      cpu_s = c / t;
      printf "| %d | %d | %s | %d | %.2f | %.2f %% | %.1f |\n", g, p, e, n, cpu_s * 1000 / n,
             100 * cpu_s / (s1 - s0), hwm / 1024 }'
done
