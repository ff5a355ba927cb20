#!/usr/bin/env bash
# How much a single PostgreSQL ledger takes: decisions per second from N simulated node guards
# (the guard's Outbox: batches of up to 500 writes, one transaction each, one connection per
# guard), and `gpuledger run` start + finish per second. Starts its own server
# (tests/postgres_server.sh; fsync off there, so these are upper bounds for the server's CPU,
# not for a disk).
# Usage: bench/ledger_bench.sh [BUILD_DIR] [GUARDS…]   (default: build 50 500)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
shift || true
guards=("$@")
[ ${#guards[@]} -gt 0 ] || guards=(50 500)
source "$src/tests/postgres_server.sh"
tmp=$(mktemp -d)
trap 'pg_stop; rm -rf "$tmp"' EXIT
pg_start "$tmp" max_connections=600 shared_buffers=256MB
echo "machine: $(nproc) cores; PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}')"
for g in "${guards[@]}"; do
  pg_sql postgres "CREATE DATABASE g$g"
  echo "guards=$g (as fast as they drain): $("$build/ledger_load" --ledger "$PG_URL/g$g" --guards "$g" --seconds 10)"
  pg_sql postgres "CREATE DATABASE paced$g"
  echo "guards=$g at 1 decision/s each: $("$build/ledger_load" --ledger "$PG_URL/paced$g" --guards "$g" --seconds 10 --rate 1)"
done
pg_sql postgres "CREATE DATABASE runs"
start=$(date +%s.%N)
seq 1 200 | xargs -P 8 -I{} "$build/gpuledger" run --ledger "$PG_URL/runs" --gpu-source none \
  --job-id "bench-{}" -- true >/dev/null 2>&1
end=$(date +%s.%N)
n=$(pg_sql runs "SELECT count(*) FROM jobs WHERE status = 'completed'")
echo "run: $n runs (start + finish rows, release decision), 8 at a time, in $(echo "$end - $start" | bc) s: $(echo "scale=1; $n / ($end - $start)" | bc) runs/s"
