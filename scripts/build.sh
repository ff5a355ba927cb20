#!/usr/bin/env bash
# Configures and builds gpuledger into build/ (the CLI lands at build/gpuledger).
# Extra arguments are passed to CMake's configure step, e.g. -DGPULEDGER_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j2
