#!/usr/bin/env bash
# The Prometheus rules shipped in deploy/prometheus: valid (`promtool check rules`) and doing
# what tests/prometheus/gpuledger-rules.test.yml works out by hand (`promtool test rules`).
# Usage: prometheus_rules_test.sh SOURCE_DIR
set -uo pipefail
src=$(realpath "$1")
command -v promtool >/dev/null || { echo "FAIL: promtool is not installed (scripts/setup.sh --test installs prometheus)"; exit 1; }
status=0
promtool check rules "$src/deploy/prometheus/gpuledger-rules.yml" || status=1
(cd "$src/tests/prometheus" && promtool test rules gpuledger-rules.test.yml) || status=1
exit $status
