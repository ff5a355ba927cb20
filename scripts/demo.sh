#!/usr/bin/env bash
# The README's first command: install, build, audit the built-in demo fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/gpuledger demo "$@"
