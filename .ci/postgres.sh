#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the rollout ledger tests.
#   .ci/postgres.sh start   -> prints 'export AUDITINFRA_TEST_POSTGRES=...; export AUDITINFRA_TEST_PGDATA=...' (eval it)
#   .ci/postgres.sh stop DIR
# Needs the Debian 'postgresql' package (initdb, pg_ctl under /usr/lib/postgresql/<v>/bin).
# As root (CI), the server runs as the 'postgres' user, which the package creates.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
  exit 3
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/auditinfra-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    for _ in 1 2 3 4 5; do
      port=$(( 20000 + RANDOM % 30000 ))
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
           -o "-k $dir -h 127.0.0.1 -p $port -c fsync=off -c max_connections=200" start >/dev/null 2>&1; then
        echo "export AUDITINFRA_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50'"
        echo "export AUDITINFRA_TEST_PGDATA='$dir'"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    dir=${2:?directory}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
