#!/usr/bin/env bash
# The README's second command: install, build with warnings as errors, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/build.sh -DGPULEDGER_WERROR=ON -DGPULEDGER_TESTS=ON
cd build
ctest --output-on-failure -j2
