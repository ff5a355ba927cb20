#!/usr/bin/env bash
# The ledger on a real PostgreSQL (Debian's, started by tests/postgres_server.sh on 127.0.0.1):
#  1. the ledger test suite (the one SQLite passes) against it;
#  2. 8 `gpuledger run`s at once writing 200 runs, a third SIGKILLed (run_durability_test.sh);
#  3. audit --jobs postgresql://… and --jobs ledger:PATH read the same jobs as the exported CSV;
#  4. writers SIGKILLed mid-transaction leave each batch whole or absent;
#  5. the server restarted under 8 guards' load: after it, every queued write is there, once.
# Usage: postgres_test.sh PATH/TO/gpuledger PATH/TO/gpuledger_tests PATH/TO/ledger_load SRC_DIR
set -uo pipefail
bin=$(realpath "$1") tests_bin=$(realpath "$2") load=$(realpath "$3") src=$(realpath "$4")
source "$src/tests/postgres_server.sh"
tmp=$(mktemp -d)
trap 'pg_stop; rm -rf "$tmp"' EXIT
failed=0
check() {  # check DESCRIPTION COMMAND…: runs the command, reports ok or FAIL
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}
pg_start "$tmp" max_connections=100 || { echo "FAIL: PostgreSQL did not start"; exit 1; }
echo "PostgreSQL at $PG_URL"

# 1. The same ledger suite as SQLite's: every case of it ran on PostgreSQL and passed (none
# skipped, and as many as SQLite's, so a rename cannot leave it running nothing).
check "ledger suite on PostgreSQL" env GPULEDGER_TEST_POSTGRES="$PG_URL" "$tests_bin" \
  --gtest_filter='Stores/LedgerStore.*/postgresql' --gtest_brief=1 --gtest_output="json:$tmp/pg.json"
sqlite_cases=$("$tests_bin" --gtest_list_tests --gtest_filter='Stores/LedgerStore.*/sqlite' | grep -c '^  ')
pg_cases=$(/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
cases = [t for s in r["testsuites"] for t in s["testsuite"]]
ok = [t for t in cases if t.get("result") == "COMPLETED" and not t.get("failures")]
print(len(ok))' "$tmp/pg.json" 2>/dev/null || echo 0)
echo "ledger suite: $pg_cases cases passed on PostgreSQL, $sqlite_cases on SQLite"
check "every ledger case ran on PostgreSQL ($pg_cases of $sqlite_cases)" \
  [ "$sqlite_cases" -ge 10 -a "$pg_cases" = "$sqlite_cases" ]

# 2. Eight `run`s at once, a third SIGKILLed: rows closed or abandoned, never left running.
pg_sql postgres "CREATE DATABASE runs"
check "8 concurrent run writers, SIGKILLed runs read abandoned" \
  bash "$src/tests/run_durability_test.sh" "$bin" "$PG_URL/runs" 8
rows=$(pg_sql runs "SELECT count(*) FROM jobs")
dupes=$(pg_sql runs "SELECT count(*) FROM (SELECT job_id, at_ms, kind, rule FROM decisions
                     GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")
check "runs' rows are in PostgreSQL ($rows), no decision twice" [ "$rows" -ge 134 -a "$dupes" = 0 ]

# 3. The ledger as the audit's jobs: postgresql://, ledger:PATH and the exported CSV agree.
host=$(hostname)
"$bin" ledger export --ledger "$PG_URL/runs" >"$tmp/jobs.csv"
now=$(date -u +%s)
from=$(date -u -d "@$((now - 3600))" +%FT%TZ) to=$(date -u -d "@$((now + 600))" +%FT%TZ)
printf 'machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n%s,8,H100,98.32,,,,%s,%s\n' \
  "$host" "$from" "$to" >"$tmp/inventory.csv"
audit() { "$bin" audit --inventory "$tmp/inventory.csv" --jobs "$1" --format json | \
  sed -e 's#"file": "[^"]*"#"file": ""#g' -e 's#"where": "[^"]*"#"where": ""#g'; }
audit "$tmp/jobs.csv" >"$tmp/from_csv.json"
audit "$PG_URL/runs" >"$tmp/from_pg.json"
check "audit --jobs postgresql:// = --jobs the exported CSV" cmp -s "$tmp/from_csv.json" "$tmp/from_pg.json"
grep -q '"rows_accepted": [1-9]' "$tmp/from_pg.json" || { echo "FAIL: no jobs read from PostgreSQL"; failed=1; }
"$bin" run --ledger "$tmp/local.db" --gpu-source none --job-id local-1 -- true >/dev/null 2>&1
"$bin" ledger export --ledger "$tmp/local.db" >"$tmp/local.csv"
audit "$tmp/local.csv" >"$tmp/local_csv.json"
audit "ledger:$tmp/local.db" >"$tmp/local_ledger.json"
check "audit --jobs ledger:PATH = --jobs its export" cmp -s "$tmp/local_csv.json" "$tmp/local_ledger.json"
"$bin" audit --inventory "$tmp/inventory.csv" --jobs "ledger:$tmp/none.db" >/dev/null 2>"$tmp/err"
check "--jobs ledger:MISSING is a clear error" grep -q "none.db: no ledger here" "$tmp/err"
test ! -e "$tmp/none.db" || { echo "FAIL: reading created a ledger"; failed=1; }

# 4. Writers SIGKILLed mid-transaction: each batch of 200 decisions + its job row is all there
# or not there at all.
pg_sql postgres "CREATE DATABASE atomic"
for round in 1 2 3; do
  "$load" --ledger "$PG_URL/atomic" --guards 8 --seconds 60 --atomic 200 --tag "k$round" \
    >/dev/null 2>&1 &
  pid=$!
  sleep "1.$((RANDOM % 9))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
done
jobs_n=$(pg_sql atomic "SELECT count(*) FROM jobs")
torn=$(pg_sql atomic "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM decisions d
                      WHERE d.job_id = j.job_id) <> 200")
orphans=$(pg_sql atomic "SELECT count(DISTINCT job_id) FROM decisions
                         WHERE job_id NOT IN (SELECT job_id FROM jobs)")
check "SIGKILLed writers: $jobs_n batches whole, none torn ($torn), none half-written ($orphans)" \
  [ "$jobs_n" -gt 0 -a "$torn" = 0 -a "$orphans" = 0 ]

# 5. A server restart under load: the guards' outboxes retry, and nothing is lost or doubled.
pg_sql postgres "CREATE DATABASE restart"
"$load" --ledger "$PG_URL/restart" --guards 8 --seconds 8 --rate 200 --tag r >"$tmp/load.json" \
  2>"$tmp/load.err" &
pid=$!
sleep 3
pg_restart || { echo "FAIL: pg_ctl restart"; failed=1; }
wait "$pid"
queued=$(sed -E 's/.*"steps_queued": ([0-9]+).*/\1/' "$tmp/load.json")
decisions=$(pg_sql restart "SELECT count(*) FROM decisions")
steps=$(pg_sql restart "SELECT coalesce(sum(gpu_hours), 0)::bigint FROM jobs")
check "restart under load: $queued steps queued, $decisions decisions and rows at $steps" \
  [ "$queued" -gt 0 -a "$decisions" = "$queued" -a "$steps" = "$queued" ]
check "the writers saw the restart and retried" grep -q "retrying" "$tmp/load.err"

[ $failed -eq 0 ] && echo "all PostgreSQL ledger checks passed" || exit 1
