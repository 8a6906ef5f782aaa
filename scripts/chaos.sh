#!/usr/bin/env bash
# The reliability suite (`just chaos`): PostgreSQL restarted mid-purchase, two instances on one
# database, kill -9 during confirms, and property-based fuzzing of the API. See docs/RELIABILITY.md.
#
#   scripts/chaos.sh [--ci] [SCENARIO...]
#
# Scenarios: pg-restart, two-instances, kill9, selftest, fuzz (default: all of them).
#   --ci            CI-sized: shorter loads and a shorter fuzz run (a few minutes in total)
#   --with-loadgen  also run `loadgen purchase` (crates/loadgen) against the server during
#                   pg-restart and two-instances, as extra traffic (its orders are covered by the
#                   invariants, not by the client cross-check)
# Environment:
#   COMMERCE_BIN   the server binary to test (default: builds target/release/commerce)
#   LOADGEN_BIN    the loadgen binary for --with-loadgen (default: builds target/release/loadgen)
#   CHAOS_OUT      where results and logs go (default: target/chaos)
#   CHAOS_KEEP=1   keep the temporary directory (database, logs) for a post-mortem
#
# Needs: PostgreSQL server binaries (initdb, pg_ctl), psql, python3, curl. Starts everything it
# uses (a private PostgreSQL on a free 127.0.0.1 port, the servers) and stops it on exit; sends
# traffic only to 127.0.0.1. Exits non-zero when any check fails.
set -euo pipefail
# shellcheck source=scripts/chaos/lib.sh
source "$(dirname "$0")/chaos/lib.sh"

CI_MODE=0
WITH_LOADGEN=0
SCENARIOS=()
for arg in "$@"; do
  case "$arg" in
    --ci) CI_MODE=1 ;;
    --with-loadgen) WITH_LOADGEN=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    pg-restart | two-instances | kill9 | selftest | fuzz) SCENARIOS+=("$arg") ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(pg-restart two-instances kill9 selftest fuzz)

if [ "$CI_MODE" = 1 ]; then
  USERS=8            # virtual users (one buyer each)
  LOAD_MAX=90        # hard bound on a load run, seconds
  TWO_LOAD_SECS=15   # the two-instance load's length
  KILL9_LATENCY_MS=1000
  FUZZ_ARGS=(--ci)
else
  USERS=12
  LOAD_MAX=180
  TWO_LOAD_SECS=45
  KILL9_LATENCY_MS=1500
  FUZZ_ARGS=()
fi
DRIVER=("$PY" "$CHAOS_DIR/driver.py")
RESULTS="$CHAOS_OUT/results.txt"

trap chaos_cleanup EXIT
trap 'exit 130' INT TERM
chaos_tmp_init
: >"$RESULTS"
result() { printf '%s\n' "$*" | tee -a "$RESULTS" >&2; }

count_sql() { sql_value "$1" "$2"; }
paid_at_least() { [ "$(count_sql "$1" "SELECT count(*) FROM orders WHERE paid_at IS NOT NULL")" -ge "$2" ]; }
confirming_at_least() { [ "$(count_sql "$1" "SELECT count(*) FROM payments WHERE status = 'CONFIRMING'")" -ge "$2" ]; }
paid_count() { count_sql "$1" "SELECT count(*) FROM orders WHERE paid_at IS NOT NULL"; }

# start_load OUT_DIR STOP_FILE BASE... : the purchase load in the background (sets LOAD_PID).
start_load() {
  local out=$1 stop=$2
  shift 2
  local bases=()
  local b
  for b in "$@"; do bases+=(--base "$b"); done
  "${DRIVER[@]}" load "${bases[@]}" --secret "$CHAOS_SECRET" --seed "$out/seed.json" \
    --concurrency "$USERS" --duration "$LOAD_MAX" --grace 20 --stop-file "$stop" \
    "${LOAD_EXTRA[@]}" --out "$out/load.json" >"$out/load.txt" 2>&1 &
  LOAD_PID=$!
  BG_PIDS+=("$LOAD_PID")
}

# finish_load STOP_FILE: asks the load to stop and waits for it (bounded by the driver itself).
finish_load() {
  touch "$1"
  if ! wait "$LOAD_PID"; then
    cat "$(dirname "$1")/load.txt" >&2
    die "the purchase load failed"
  fi
  cat "$(dirname "$1")/load.txt" >&2
}

# start_loadgen OUT_DIR BASE SECONDS: `loadgen purchase` as extra traffic (sets LOADGEN_PID).
LOADGEN_PID=""
start_loadgen() {
  [ "$WITH_LOADGEN" = 1 ] || return 0
  "$LOADGEN" --base-url "$2" --jwt-secret "$CHAOS_SECRET" --concurrency 4 --duration "$3" \
    --idempotency-keys --allow-5xx --allow-errors --quiet --summary-json "$1/loadgen.json" \
    purchase >"$1/loadgen.txt" 2>&1 &
  LOADGEN_PID=$!
  BG_PIDS+=("$LOADGEN_PID")
}
finish_loadgen() { # OUT_DIR
  [ -n "$LOADGEN_PID" ] || return 0
  local rc=0
  wait "$LOADGEN_PID" || rc=$?
  LOADGEN_PID=""
  if [ "$rc" != 0 ]; then cat "$1/loadgen.txt" >&2; die "loadgen exited with $rc"; fi
  result "$(basename "$1"): loadgen purchase alongside: $(grep -m1 -iE 'purchases|completed' "$1/loadgen.txt" || tail -n1 "$1/loadgen.txt")"
}

seed_db() { # OUT_DIR DB BASE
  "${DRIVER[@]}" seed --base "$3" --secret "$CHAOS_SECRET" --users "$USERS" --out "$1/seed.json" >&2
  record_initial_stock "$2"
}

# The end of every load scenario: settle, invariants, client cross-check, logs.
conclude() { # NAME OUT_DIR DB SETTLE_TIMEOUT
  local name=$1 out=$2 db=$3 timeout=$4 t0=$SECONDS
  wait_settled "$db" "$timeout" || log "$name: not settled after ${timeout}s (the invariants will say what is left)"
  local settle_s=$((SECONDS - t0))
  local ok=1
  check_invariants "$db" "$out/invariants.txt" true || ok=0
  PSQL=$(psql_bin) "${DRIVER[@]}" verify --dsn "$(pg_url "$db")" --out "$out/verify.json" "$out/load.json" >&2 || ok=0
  local violations server5xx
  violations=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["violation_count"])' "$out/load.json")
  server5xx=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["server_error_count"])' "$out/load.json")
  if [ "$violations" != 0 ]; then log "$name: $violations protocol violations (see $out/load.json)"; ok=0; fi
  if [ "$server5xx" != 0 ]; then log "$name: $server5xx 5xx answers other than 503 (see $out/load.json)"; ok=0; fi
  save_logs "$out"
  "$PY" "$CHAOS_DIR/summary.py" "$name" "$out" "$settle_s" | tee -a "$RESULTS" >&2
  [ "$ok" = 1 ] || die "$name: checks failed (details in $out)"
}

# --- 1. PostgreSQL restart in the middle of a purchase run -----------------------------------
scenario_pg_restart() {
  local out="$CHAOS_OUT/pg-restart" db=chaos_restart port base
  rm -rf "$out" && mkdir -p "$out"
  log "== pg-restart: PostgreSQL stopped twice (fast, then immediate) in the middle of a purchase load"
  pg_create_db "$db"
  port=$(free_port)
  start_server restart "$port" "$db"
  base="http://127.0.0.1:$port"
  seed_db "$out" "$db" "$base"
  LOAD_EXTRA=()
  start_load "$out" "$out/stop" "$base"
  start_loadgen "$out" "$base" 30
  wait_until "30 paid orders" 60 paid_at_least "$db" 30 || die "pg-restart: the load pays nothing"
  check_invariants "$db" "$out/invariants-before.txt" false || die "pg-restart: invariants broken before the outage"
  # two outages: a clean fast shutdown for 3 s, then a crash-like immediate one for 6 s (longer
  # than the pool's 5 s wait; PostgreSQL replays its WAL when it starts again)
  local mode secs paid_after
  for mode in fast:3 immediate:6; do
    secs=${mode#*:}
    mode=${mode%%:*}
    local stop_action=stop
    [ "$mode" = immediate ] && stop_action="stop-immediate"
    log "pg-restart: stopping PostgreSQL ($mode) for ${secs}s under load"
    "${DRIVER[@]}" outage --base "$base" --secret "$CHAOS_SECRET" \
      --stop-cmd "$(pg_ctl_cmd "$stop_action")" --start-cmd "$(pg_ctl_cmd start)" \
      --down-secs "$secs" --recover-timeout 30 --out "$out/outage-$mode.json" >&2 \
      || { save_logs "$out"; die "pg-restart: outage checks failed ($mode)"; }
    paid_after=$(paid_count "$db")
    wait_until "purchases resume (30 more paid)" 60 paid_at_least "$db" $((paid_after + 30)) \
      || { save_logs "$out"; die "pg-restart: purchases did not resume after the restart ($mode)"; }
  done
  finish_load "$out/stop"
  finish_loadgen "$out"
  conclude pg-restart "$out" "$db" 60
  stop_server restart
}

# --- 2. Two instances on one database, both running the jobs, orders expiring ----------------
scenario_two_instances() {
  local out="$CHAOS_OUT/two-instances" db=chaos_two pa pb
  rm -rf "$out" && mkdir -p "$out"
  log "== two-instances: two servers on one database, purchase load split across both, orders expiring"
  pg_create_db "$db"
  pa=$(free_port)
  pb=$(free_port)
  local env=(ORDER_TTL_SECS=5 SIMULATED_GATEWAY_LATENCY_MS=150)
  start_server instance-a "$pa" "$db" "${env[@]}"
  start_server instance-b "$pb" "$db" "${env[@]}"
  seed_db "$out" "$db" "http://127.0.0.1:$pa"
  # some buyers leave orders unpaid, some pause up to 7 s before paying (past the 5 s TTL)
  LOAD_EXTRA=(--unpaid 0.15 --slow 0.25 --slow-max 7)
  start_load "$out" "$out/stop" "http://127.0.0.1:$pa" "http://127.0.0.1:$pb"
  start_loadgen "$out" "http://127.0.0.1:$pb" "$TWO_LOAD_SECS"
  local t_end=$((SECONDS + TWO_LOAD_SECS)) checks=0
  while [ "$SECONDS" -lt "$t_end" ]; do
    sleep 2
    check_invariants "$db" "$out/invariants-during.txt" false || { save_logs "$out"; die "two-instances: invariants broken during the run"; }
    checks=$((checks + 1))
  done
  log "two-instances: invariants held at $checks snapshots during the run"
  finish_load "$out/stop"
  finish_loadgen "$out"
  # every order left unpaid expires (TTL 5 s, expiry every second)
  wait_until "unpaid orders expired" 30 test "$(count_sql "$db" "SELECT count(*) FROM orders WHERE status = 'CREATED'")" = 0 \
    || log "two-instances: CREATED orders left (the invariants will tell)"
  conclude two-instances "$out" "$db" 60
  local ea eb
  ea=$(grep -c 'expired unpaid orders' "${SERVER_LOG[instance-a]}" || true)
  eb=$(grep -c 'expired unpaid orders' "${SERVER_LOG[instance-b]}" || true)
  result "two-instances: expiry runs that expired something: instance-a $ea, instance-b $eb; invariant snapshots during the run: $checks"
  stop_server instance-a
  stop_server instance-b
}

# --- 3. kill -9 of the server while confirms are in flight, then a restart --------------------
scenario_kill9() {
  local out="$CHAOS_OUT/kill9" db=chaos_kill port base
  rm -rf "$out" && mkdir -p "$out"
  log "== kill9: the server killed with SIGKILL while confirms are at the (${KILL9_LATENCY_MS} ms) gateway"
  pg_create_db "$db"
  port=$(free_port)
  local env=(SIMULATED_GATEWAY_LATENCY_MS="$KILL9_LATENCY_MS" RECONCILE_AFTER_SECS=3)
  start_server kill9 "$port" "$db" "${env[@]}"
  base="http://127.0.0.1:$port"
  seed_db "$out" "$db" "$base"
  LOAD_EXTRA=(--retry-for 10)
  start_load "$out" "$out/stop" "$base"
  wait_until "4 payments CONFIRMING" 60 confirming_at_least "$db" 4 || die "kill9: no confirms in flight"
  kill9_server kill9
  # what the dead server left in flight: the reconciler of the new one must finish each of them
  local left
  left=$(count_sql "$db" "SELECT coalesce(string_agg(id::text, ','), '0') FROM payments WHERE status = 'CONFIRMING'")
  local confirming
  confirming=$(count_sql "$db" "SELECT count(*) FROM payments WHERE status = 'CONFIRMING'")
  log "kill9: killed the server with $confirming payments CONFIRMING (ids $left)"
  sleep 1 # the buyers' retries meet a closed port for a moment
  local t_restart=$SECONDS
  start_server kill9 "$port" "$db" "${env[@]}"
  local at_restart
  at_restart=$(count_sql "$db" "SELECT count(*) FROM payments WHERE id IN ($left) AND status = 'CONFIRMING'")
  left_settled() { [ "$(count_sql "$db" "SELECT count(*) FROM payments WHERE id IN ($left) AND status = 'CONFIRMING'")" = 0 ]; }
  wait_until "the reconciler finishes the payments the killed server left CONFIRMING" 120 left_settled \
    || { save_logs "$out"; die "kill9: payments left CONFIRMING by the killed server were not settled"; }
  local reconciled_s=$((SECONDS - t_restart))
  local outcome
  outcome=$(count_sql "$db" "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM payments WHERE id IN ($left) GROUP BY status) s")
  log "kill9: the $confirming payments left in flight are now: $outcome (${reconciled_s}s after the restart)"
  local paid_after
  paid_after=$(paid_count "$db")
  wait_until "purchases resume (20 more paid)" 60 paid_at_least "$db" $((paid_after + 20)) \
    || { save_logs "$out"; die "kill9: purchases did not resume after the restart"; }
  finish_load "$out/stop"
  printf '{"confirming_at_kill": %s, "confirming_at_restart": %s, "all_settled_after_restart_s": %s, "their_outcome": "%s"}\n' \
    "$confirming" "$at_restart" "$reconciled_s" "$outcome" >"$out/kill.json"
  # after a restart the new process's gateway has forgotten the old one's timeout-/error- keys:
  # settling those takes two reconciler rounds of serial gateway calls
  conclude kill9 "$out" "$db" 120
  stop_server kill9
}

# --- 4. The invariants can fail: a corrupted copy of a finished run must be caught -------------
scenario_selftest() {
  local out="$CHAOS_OUT/selftest" src="" db
  rm -rf "$out" && mkdir -p "$out"
  for db in chaos_restart chaos_two chaos_kill; do
    if [ "$(sql_value postgres "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 1 ]; then src=$db; break; fi
  done
  [ -n "$src" ] || { log "selftest: no finished run to copy; skipped"; return 0; }
  log "== selftest: the invariants must catch a corrupted copy of $src"
  local -A corruptions=(
    [stock_moved_by_payments_only]="UPDATE products SET stock = stock - 1 WHERE id = (SELECT min(id) FROM products)"
    [points_balance_is_ledger_sum]="UPDATE point_balances SET balance = balance + 7 WHERE user_id = (SELECT min(user_id) FROM point_balances)"
    [paid_order_has_approved_payment]="UPDATE payments SET status = 'FAILED', failure_code = 'X', failure_message = 'x' WHERE id = (SELECT max(p.id) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.status = 'PAID' AND p.status = 'APPROVED' AND p.owned_coupon_id IS NULL AND p.used_point = 0)"
    [used_coupon_on_a_paid_or_confirming_order]="UPDATE owned_coupons SET status = 'USED', used_order_id = (SELECT max(id) FROM orders WHERE status <> 'PAID'), used_at = now() WHERE id = (SELECT min(id) FROM owned_coupons WHERE status = 'ISSUED')"
    [nothing_pending_after_reconcile]="UPDATE payments SET status = 'CONFIRMING' WHERE id = (SELECT max(id) FROM payments WHERE status = 'APPROVED')"
    [paid_amounts_match_payment]="UPDATE orders SET paid_amount = paid_amount + 1 WHERE id = (SELECT max(id) FROM orders WHERE status = 'PAID')"
  )
  local check caught=0 total=0
  for check in "${!corruptions[@]}"; do
    total=$((total + 1))
    psql_db postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS chaos_selftest" -c "CREATE DATABASE chaos_selftest TEMPLATE $src" >/dev/null
    psql_db chaos_selftest -c "${corruptions[$check]}" >/dev/null
    if psql_db chaos_selftest -f "$CHAOS_DIR/invariants.sql" >"$out/$check.txt" 2>&1; then
      log "selftest: corruption for $check went unnoticed"
    elif grep -q "^ *$check " "$out/$check.txt"; then
      caught=$((caught + 1))
    else
      log "selftest: corruption for $check was caught by other checks only (see $out/$check.txt)"
    fi
  done
  psql_db postgres -c "DROP DATABASE IF EXISTS chaos_selftest" >/dev/null
  result "selftest: $caught of $total deliberate corruptions caught by invariants.sql"
  [ "$caught" = "$total" ] || die "selftest: the invariants missed a corruption"
}

# --- 5. Fuzzing every endpoint of /openapi.json -------------------------------------------------
scenario_fuzz() {
  log "== fuzz: schemathesis against every operation of /openapi.json"
  COMMERCE_BIN=$COMMERCE CHAOS_OUT="$CHAOS_OUT" \
    "$CHAOS_ROOT/scripts/fuzz.sh" "${FUZZ_ARGS[@]}" --pg-port "$PGPORT" || die "fuzz: failures (see $CHAOS_OUT/fuzz)"
  cat "$CHAOS_OUT/fuzz/summary.txt" >>"$RESULTS"
}

T0=$SECONDS
resolve_commerce
if [ "$WITH_LOADGEN" = 1 ]; then
  if [ -n "${LOADGEN_BIN:-}" ]; then LOADGEN=$LOADGEN_BIN; else
    LOADGEN="$CHAOS_ROOT/target/release/loadgen"
    log "building loadgen (cargo build --release -p loadgen)"
    (cd "$CHAOS_ROOT" && cargo build --release -p loadgen -q) || die "cargo build -p loadgen failed"
  fi
  [ -x "$LOADGEN" ] || die "no loadgen binary at $LOADGEN"
fi
pg_init
pg_start
for s in "${SCENARIOS[@]}"; do
  t=$SECONDS
  case "$s" in
    pg-restart) scenario_pg_restart ;;
    two-instances) scenario_two_instances ;;
    kill9) scenario_kill9 ;;
    selftest) scenario_selftest ;;
    fuzz) scenario_fuzz ;;
  esac
  log "$s passed in $((SECONDS - t)) s"
done
result "chaos: ${SCENARIOS[*]} passed in $((SECONDS - T0)) s ($( [ "$CI_MODE" = 1 ] && echo CI-sized || echo full)); results in $RESULTS"
echo "chaos: ${#SCENARIOS[@]} passed, 0 failed"
