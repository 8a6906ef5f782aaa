# shellcheck shell=bash
# Helpers for scripts/chaos.sh: a private PostgreSQL, `commerce` servers, bounded waits, cleanup.
# Everything lives under one short temporary directory (unix socket paths stay short) and is
# removed by `chaos_cleanup`, which chaos.sh runs from its EXIT trap.

CHAOS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CHAOS_DIR="$CHAOS_ROOT/scripts/chaos"
CHAOS_OUT=${CHAOS_OUT:-$CHAOS_ROOT/target/chaos}
CHAOS_SECRET="chaos-suite-jwt-secret-0123456789abcdef"
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the work tree (fuzz_hooks.py is imported)

declare -A SERVER_PID=()
declare -A SERVER_LOG=()
BG_PIDS=() # other background processes we started (load drivers), ended on exit
CHAOS_TMP=""
PGPORT=""
PGDATA_DIR=""
PGBIN=""

log() { printf '[chaos %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# Runs a PostgreSQL server binary as the postgres user when we are root (initdb and postgres
# refuse to run as root), directly otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
as_pg_prefix() {
  if [ "$(id -u)" = 0 ]; then printf 'runuser -u postgres -- '; fi
}

find_pgbin() {
  local initdb
  # shellcheck disable=SC2012 # the paths are ours to know: /usr/lib/postgresql/<version>/bin
  initdb=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)
  [ -n "$initdb" ] || die "no PostgreSQL server binaries (initdb); install the postgresql package"
  PGBIN=$(dirname "$initdb")
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until DESCRIPTION TIMEOUT_SECS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_until() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for: $what"
      return 1
    fi
    sleep 0.2
  done
}

http_status() { # URL -> prints the status code (000 when nothing answers)
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
}
http_is() { [ "$(http_status "$2")" = "$1" ]; }

chaos_tmp_init() {
  CHAOS_TMP=$(mktemp -d /tmp/chaos.XXXXXX)
  chmod 755 "$CHAOS_TMP"
  mkdir -p "$CHAOS_OUT"
}

# --- PostgreSQL -------------------------------------------------------------------------------

pg_init() {
  find_pgbin
  PGDATA_DIR="$CHAOS_TMP/pg"
  mkdir -p "$PGDATA_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDATA_DIR"; fi
  as_pg "$PGBIN/initdb" -D "$PGDATA_DIR/data" -U postgres -A trust --no-locale -E UTF8 >"$CHAOS_TMP/initdb.log" 2>&1 \
    || { cat "$CHAOS_TMP/initdb.log" >&2; die "initdb failed"; }
  PGPORT=$(free_port)
  log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') in $PGDATA_DIR on 127.0.0.1:$PGPORT"
}

pg_ctl_cmd() { # the pg_ctl command line for ACTION (a string, for the outage driver too)
  local action=$1
  local opts="-p $PGPORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c max_connections=200"
  case "$action" in
    start) printf '%s%s/pg_ctl -D %s -l %s/server.log -o "%s" -w -t 60 start' "$(as_pg_prefix)" "$PGBIN" "$PGDATA_DIR/data" "$PGDATA_DIR" "$opts" ;;
    stop) printf '%s%s/pg_ctl -D %s -m fast -w -t 60 stop' "$(as_pg_prefix)" "$PGBIN" "$PGDATA_DIR/data" ;;
    # like a crash: no shutdown checkpoint, WAL recovery at the next start
    stop-immediate) printf '%s%s/pg_ctl -D %s -m immediate -w -t 60 stop' "$(as_pg_prefix)" "$PGBIN" "$PGDATA_DIR/data" ;;
  esac
}

pg_start() { bash -c "$(pg_ctl_cmd start)" >/dev/null || { tail -n 20 "$PGDATA_DIR/server.log" >&2; die "PostgreSQL did not start"; }; }
pg_stop() { bash -c "$(pg_ctl_cmd stop)" >/dev/null 2>&1 || true; }

pg_url() { printf 'postgres://postgres@127.0.0.1:%s/%s' "$PGPORT" "${1:-postgres}"; }

psql_bin() {
  if command -v psql >/dev/null 2>&1; then command -v psql; else
    [ -n "$PGBIN" ] || find_pgbin
    printf '%s/psql' "$PGBIN"
  fi
}

psql_db() { # DB [psql args...]
  local db=$1
  shift
  "$(psql_bin)" "$(pg_url "$db")" -X -q -v ON_ERROR_STOP=1 "$@"
}

pg_create_db() { psql_db postgres -c "CREATE DATABASE $1" >/dev/null; }

sql_value() { # DB SQL -> one value
  psql_db "$1" -At -c "$2"
}

# Records the catalog's stock as it is now: the invariants compare it with the end state.
record_initial_stock() {
  psql_db "$1" -c "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS chaos;
    DROP TABLE IF EXISTS chaos.initial_stock;
    CREATE TABLE chaos.initial_stock AS SELECT id AS product_id, stock FROM products;" >/dev/null
}

# check_invariants DB OUTFILE [settled=true|false]: runs invariants.sql, prints its report.
check_invariants() {
  local db=$1 out=$2 settled=${3:-true}
  if psql_db "$db" -v settled="$settled" -f "$CHAOS_DIR/invariants.sql" >"$out" 2>&1; then
    grep '^invariants:' "$out" >&2 || true
    return 0
  fi
  cat "$out" >&2
  return 1
}

# wait_settled DB TIMEOUT: no payment left CONFIRMING/CANCELING and the outbox relayed.
settled_now() {
  [ "$(sql_value "$1" "SELECT (SELECT count(*) FROM payments WHERE status IN ('CONFIRMING','CANCELING'))
                          + (SELECT count(*) FROM outbox WHERE published_at IS NULL)")" = 0 ]
}
wait_settled() { wait_until "payments settled and outbox relayed" "$2" settled_now "$1"; }

# --- commerce ---------------------------------------------------------------------------------

resolve_commerce() {
  if [ -n "${COMMERCE_BIN:-}" ]; then
    COMMERCE=$COMMERCE_BIN
  else
    COMMERCE="$CHAOS_ROOT/target/release/commerce"
    log "building the release binary (cargo build --release -p app)"
    (cd "$CHAOS_ROOT" && cargo build --release -p app --bin commerce -q) || die "cargo build failed"
  fi
  [ -x "$COMMERCE" ] || die "no commerce binary at $COMMERCE"
}

# start_server NAME PORT DB [VAR=VALUE...]: starts `commerce` in the background and waits until
# it is ready. Extra variables override the suite's defaults.
start_server() {
  local name=$1 port=$2 db=$3
  shift 3
  local logfile="$CHAOS_TMP/$name.log"
  SERVER_LOG[$name]=$logfile
  env DATABASE_URL="$(pg_url "$db")" JWT_SECRET="$CHAOS_SECRET" BIND_ADDR="127.0.0.1:$port" \
    PAYMENT_GATEWAY=simulated RUST_LOG="${CHAOS_RUST_LOG:-info}" LOG_FORMAT=json \
    DB_POOL_SIZE=10 HTTP_WORKERS=2 \
    RECONCILE_INTERVAL_SECS=1 RECONCILE_AFTER_SECS=2 EXPIRE_INTERVAL_SECS=1 \
    "$@" "$COMMERCE" >>"$logfile" 2>&1 &
  SERVER_PID[$name]=$!
  if ! wait_until "$name ready on :$port" 60 http_is 200 "http://127.0.0.1:$port/health/ready"; then
    tail -n 30 "$logfile" >&2
    die "$name did not become ready"
  fi
  log "$name (pid ${SERVER_PID[$name]}) ready on 127.0.0.1:$port"
}

# stop_server NAME: SIGTERM (drains), SIGKILL if it has not exited after 20 s.
stop_server() {
  local name=$1 pid=${SERVER_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop on SIGTERM within 20 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "SERVER_PID[$name]"
}

kill9_server() {
  local name=$1 pid=${SERVER_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "SERVER_PID[$name]"
}

# Keeps the scenario's logs and removes everything else.
save_logs() { # DEST_DIR
  mkdir -p "$1"
  local name
  for name in "${!SERVER_LOG[@]}"; do cp "${SERVER_LOG[$name]}" "$1/" 2>/dev/null || true; done
  if [ -n "$PGDATA_DIR" ]; then cp "$PGDATA_DIR/server.log" "$1/postgres.log" 2>/dev/null || true; fi
}

chaos_cleanup() {
  local rc=$? name
  if [ "$rc" != 0 ]; then
    for name in "${!SERVER_LOG[@]}"; do
      log "$name server: $(grep -c -E '"level":"ERROR"|panicked' "${SERVER_LOG[$name]}" 2>/dev/null || true) error lines in its log (${SERVER_LOG[$name]}; kept with CHAOS_KEEP=1), the last ones:"
      grep -E '"level":"ERROR"|panicked' "${SERVER_LOG[$name]}" 2>/dev/null | tail -n 5 | cut -c1-400 >&2 || true
    done
  fi
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for name in "${!SERVER_PID[@]}"; do kill -KILL "${SERVER_PID[$name]}" 2>/dev/null || true; done
  if [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [ -n "$CHAOS_TMP" ] && [ -z "${CHAOS_KEEP:-}" ]; then rm -rf "$CHAOS_TMP"; fi
}
