# A throwaway PostgreSQL server for tests and benchmarks, from Debian's packages: initdb into a
# fresh folder, pg_ctl on a free 127.0.0.1 port, trust authentication for one superuser named
# gpuledger. PostgreSQL refuses to run as root: under root the server runs as the "postgres"
# user the package creates. Source this file, then:
#   pg_start DIR [SETTING=VALUE…]  sets PG_URL (postgresql://gpuledger@127.0.0.1:PORT, no db)
#   pg_restart (-m fast), pg_stop (-m immediate); pg_sql DB SQL prints what psql answers.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_as() {  # runs a command as the server's user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pg_start() {
  local dir=$1; shift
  [ -x "$pg_bin/initdb" ] || { echo "postgres_server: no initdb (apt-get install postgresql)" >&2; return 1; }
  PG_DIR=$dir/pg
  mkdir -p "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && { chown postgres "$PG_DIR"; chmod 755 "$dir"; }
  pg_as "$pg_bin/initdb" -D "$PG_DIR/data" -U gpuledger --auth=trust -E UTF8 --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  PG_PORT=$(pg_free_port)
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$PG_DIR'"
    echo "fsync = off"
    for s in "$@"; do echo "${s%%=*} = ${s#*=}"; done
  } >>"$PG_DIR/data/postgresql.conf"
  pg_as "$pg_bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_URL="postgresql://gpuledger@127.0.0.1:$PG_PORT"
}
pg_restart() {
  pg_as "$pg_bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -m fast restart \
    >/dev/null
}
pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] &&
    pg_as "$pg_bin/pg_ctl" -D "$PG_DIR/data" -w -t 30 -m immediate stop >/dev/null 2>&1
  return 0
}
pg_sql() {  # pg_sql DB SQL: the answer, unaligned, no headers
  "$pg_bin/psql" -X -q -t -A -v ON_ERROR_STOP=1 "$PG_URL/$1" -c "$2"
}
