#!/usr/bin/env bash
# A local dev PostgreSQL for `DATABASE_URL` mode, from the machine's binaries, listening on
# 127.0.0.1:55432 with trust auth. Data in ./.data/dev-postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
data="$PWD/.data/dev-postgres"
port="${DEV_DB_PORT:-55432}"
bin=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    [ -f "$data/PG_VERSION" ] || as_pg "$bin/initdb" -D "$data" -U postgres -A trust --no-locale -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >/dev/null
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
