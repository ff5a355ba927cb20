#!/usr/bin/env bash
# Every exported format audits to the nvidia-smi figures of the same samples: a generated fleet
# (build/make_smi_fleet: 3 machines × 4 GPUs, two days of 10 s polls, so the JSON comes as a
# file a day) converted sample for sample (build/convert_fleet) into a long table, DCGM text (a
# file per machine, read two at a time) and query_range JSON, each audited with the same flags:
# every figure, category, owner and lens equal (all but the input section).
# Usage: formats_agree_test.sh BUILD_DIR
set -uo pipefail
build=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/make_smi_fleet" "$tmp/smi" 3 4 17280 >/dev/null || { echo "FAIL: make_smi_fleet"; exit 1; }
"$build/convert_fleet" "$tmp/smi" "$tmp/x" || { echo "FAIL: convert_fleet"; exit 1; }
audit() { "$build/gpuledger" audit "$@" --price-per-gpu-hour 2 --threads 2 --format json; }
figures() { sed -n '/"machines_total"/,/"input"/p' "$1"; }
audit --telemetry "$tmp/smi" >"$tmp/smi.json" || { echo "FAIL: the nvidia-smi audit"; exit 1; }
passed=0
failed=0
agree() {  # agree FORMAT FLAG…
  local format=$1
  shift
  if ! audit "$@" >"$tmp/$format.json" 2>"$tmp/$format.err"; then
    failed=$((failed + 1)); echo "FAIL: the $format audit"; cat "$tmp/$format.err"; return
  fi
  if diff <(figures "$tmp/smi.json") <(figures "$tmp/$format.json") >"$tmp/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL: $format differs from nvidia-smi:"; head -20 "$tmp/diff"
  fi
}
[ "$(ls "$tmp/x/prometheus" | wc -l)" -ge 2 ] || { echo "FAIL: the JSON should span two days"; exit 1; }
grep -q '"held_idle_usd": [1-9]' "$tmp/smi.json" || { echo "FAIL: no held idle to compare"; exit 1; }
agree long --telemetry "$tmp/x/long.csv" --telemetry-format long --time-col time \
  --machine-col machine --series-col machine --gpu-col gpu --value-col util --memory-col memory
agree dcgm --telemetry "$tmp/x/dcgm" --telemetry-format dcgm
agree prometheus --telemetry "$tmp/x/prometheus" --telemetry-format prometheus
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
