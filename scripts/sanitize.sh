#!/usr/bin/env bash
# The whole test suite again, built with GCC's AddressSanitizer and UndefinedBehaviorSanitizer
# (clang 14 cannot compile <expected> from libstdc++ 12) into build-sanitize/: any memory error
# or undefined behaviour fails the run. .ci/run calls it after the README's test command.
# Warnings are scripts/test.sh's business (-Werror there); GCC 12 sees false maybe-uninitialized
# paths inside libstdc++'s <regex> once the sanitizers instrument it, so they are not errors here.
# Extra arguments go to ctest (e.g. -R Audit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPULEDGER_TESTS=ON \
  -DGPULEDGER_WERROR=OFF -DCMAKE_CXX_FLAGS="$flags -Wno-maybe-uninitialized" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$flags" >/dev/null
cmake --build build-sanitize -j2
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-sanitize
ctest --output-on-failure -j2 "$@"
