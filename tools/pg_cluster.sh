#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: no server is assumed to exist.
#   tools/pg_cluster.sh start DIR   initdb in DIR/data (unless it holds a cluster already: then its
#                                   data is kept) and start a server listening only on a Unix
#                                   socket in DIR (no TCP port); prints its connection string
#   tools/pg_cluster.sh stop DIR    stop it (fast shutdown); DIR is left for the caller to remove
#   tools/pg_cluster.sh restart DIR stop and start it again, keeping its data (tests of a database
#                                   that goes away and comes back)
# The server runs as a non-root user, as PostgreSQL requires: the caller itself, or `nobody` when
# run as root (CI), and DIR is handed to that user. Durability stays on (fsync,
# synchronous_commit), as in production. Uses Debian's postgresql (tools/deps.sh); PG_BIN overrides
# where its binaries are.
set -euo pipefail
command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: tools/pg_cluster.sh start|stop|restart DIR" >&2
  exit 2
fi
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "tools/pg_cluster.sh: PostgreSQL server binaries not found (install postgresql)" >&2
  exit 1
fi
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u nobody --)
fi
start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    # trust on the socket only: the socket's directory belongs to the server's user alone.
    "${as_owner[@]}" "$PG_BIN/initdb" -D "$dir/data" -U tongban --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
    -o "-c listen_addresses= -c unix_socket_directories=$dir -c fsync=on \
-c synchronous_commit=on -c max_connections=200" start ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "postgresql:///postgres?host=$dir&user=tongban"
}
stop() {
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -s stop
  fi
}
case $command in
  start) start ;;
  stop) stop ;;
  restart)
    stop
    start
    ;;
  *)
    echo "usage: tools/pg_cluster.sh start|stop|restart DIR" >&2
    exit 2
    ;;
esac
