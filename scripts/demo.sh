#!/usr/bin/env bash
# The README's first command: install, build, audit the built-in demo fleet, and write its report
# page to build/demo-report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/gpuledger demo "$@"
build/gpuledger report --demo --budget 1000000 --out build/demo-report.html
