#!/usr/bin/env bash
# Fails when a C++ file under src/, tests/ or bench/ is not clang-formatted (.clang-format).
set -euo pipefail
cd "$1"
files=$(find src tests bench -name '*.cc' -o -name '*.h')
if clang-format --dry-run --Werror $files 2>"${TMPDIR:-/tmp}/gpuledger-format.log"; then
  echo "$(echo "$files" | wc -l) files formatted"
else
  head -30 "${TMPDIR:-/tmp}/gpuledger-format.log"
  echo "run: clang-format -i \$(find src tests bench -name '*.cc' -o -name '*.h')"
  exit 1
fi
