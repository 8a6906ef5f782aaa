#!/usr/bin/env bash
# Property-based fuzzing of every operation in /openapi.json with schemathesis (pinned below).
#
#   scripts/fuzz.sh [--ci] [--pg-port PORT]
#
# Starts its own PostgreSQL (or uses the running one at 127.0.0.1:PORT, as chaos.sh does) and its
# own `commerce`, seeds products, coupons, points, orders in every state and cart lines for the
# fuzzing buyer, then runs schemathesis' examples, coverage, fuzzing and
# stateful phases with every check, a buyer token on /v1 and an admin token on /admin/v1.
# Fails when a response is a 5xx (not_a_server_error) or an error is not problem+json
# (problem_json_errors, scripts/chaos/fuzz_hooks.py); other checks' failures are OpenAPI
# mismatches, listed in $CHAOS_OUT/fuzz/mismatches.txt. See docs/RELIABILITY.md.
#
# Environment: COMMERCE_BIN (default: builds the release binary), CHAOS_OUT (target/chaos),
# FUZZ_EXAMPLES (per operation; 60 with --ci, else 300), FUZZ_SEED (fixed with --ci, else random),
# FUZZ_VENV (target/chaos-venv), FUZZ_GATE_CHECKS (see scripts/chaos/fuzz_report.py).
set -euo pipefail
# shellcheck source=scripts/chaos/lib.sh
source "$(dirname "$0")/chaos/lib.sh"

SCHEMATHESIS_VERSION=4.32.5
CI_MODE=0
REUSE_PORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) CI_MODE=1 ;;
    --pg-port) REUSE_PORT=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$CI_MODE" = 1 ]; then
  EXAMPLES=${FUZZ_EXAMPLES:-60}
  SEED=${FUZZ_SEED:-20261128}
  ST_TIMEOUT=420
else
  EXAMPLES=${FUZZ_EXAMPLES:-300}
  SEED=${FUZZ_SEED:-$RANDOM$RANDOM}
  ST_TIMEOUT=1500
fi
OUT="$CHAOS_OUT/fuzz"
VENV=${FUZZ_VENV:-$CHAOS_ROOT/target/chaos-venv}

trap chaos_cleanup EXIT
trap 'exit 130' INT TERM
chaos_tmp_init
rm -rf "$OUT" && mkdir -p "$OUT"

# schemathesis, pinned, in a venv under target/ (ignored by git)
if [ "$("$VENV/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV" || die "python3 -m venv failed (install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
    || die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
fi

resolve_commerce
if [ -n "$REUSE_PORT" ]; then
  # chaos.sh's cluster: not ours to stop (PGDATA_DIR stays empty, so cleanup leaves it alone)
  # shellcheck disable=SC2034 # read by lib.sh
  PGPORT=$REUSE_PORT
else
  pg_init
  pg_start
fi
db=chaos_fuzz
psql_db postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null
pg_create_db "$db"
port=$(free_port)
base="http://127.0.0.1:$port"
start_server fuzz "$port" "$db" SIMULATED_GATEWAY_LATENCY_MS=0

# data for the handlers to find: products, coupons, points, orders in every state, cart lines
"$PY" "$CHAOS_DIR/driver.py" seed --base "$base" --secret "$CHAOS_SECRET" --users 2 --products 5 \
  --out "$OUT/seed.json" >&2
"$PY" "$CHAOS_DIR/driver.py" load --base "$base" --secret "$CHAOS_SECRET" --seed "$OUT/seed.json" \
  --concurrency 2 --duration 30 --max-orders 30 --unpaid 0.3 --out "$OUT/seed-orders.json" >&2
BUYER_ID=1001
BUYER=$(JWT_SECRET="$CHAOS_SECRET" "$COMMERCE" token --user "$BUYER_ID")
ADMIN=$(JWT_SECRET="$CHAOS_SECRET" "$COMMERCE" token --user 1 --admin)
for product in 1 2 3; do
  curl -sf -X POST "$base/v1/cart/items" -H "Authorization: Bearer $BUYER" \
    -H 'Content-Type: application/json' -d "{\"productId\":$product,\"quantity\":1}" >/dev/null \
    || die "could not add a cart line"
  # and unpaid orders, so checkout, payment and cancel find CREATED orders too
  curl -sf -X POST "$base/v1/orders" -H "Authorization: Bearer $BUYER" \
    -H 'Content-Type: application/json' -d "{\"productId\":$product,\"quantity\":1}" >/dev/null \
    || die "could not place an order"
done
list() { sql_value "$db" "SELECT coalesce(string_agg(x::text, ','), '') FROM ($1) s(x)"; }
export FUZZ_ORDER_KEYS FUZZ_PRODUCT_IDS FUZZ_CART_ITEM_IDS FUZZ_COUPON_IDS FUZZ_BUYER_TOKEN=$BUYER FUZZ_ADMIN_TOKEN=$ADMIN
FUZZ_ORDER_KEYS=$(list "SELECT order_key FROM orders WHERE user_id = $BUYER_ID")
FUZZ_PRODUCT_IDS=$(list "SELECT id FROM products")
FUZZ_CART_ITEM_IDS=$(list "SELECT id FROM cart_items WHERE user_id = $BUYER_ID")
FUZZ_COUPON_IDS=$(list "SELECT id FROM coupons")
log "fuzzing as buyer $BUYER_ID: $(tr ',' '\n' <<<"$FUZZ_ORDER_KEYS" | grep -c .) orders, $(tr ',' '\n' <<<"$FUZZ_CART_ITEM_IDS" | grep -c .) cart lines"

cat >"$CHAOS_TMP/schemathesis.toml" <<EOF
hooks = "$CHAOS_DIR/fuzz_hooks.py"
request-timeout = 10

# the buyer everywhere (the stateful phase too), the admin on /admin/v1
headers = { Authorization = "Bearer $BUYER" }

[[operations]]
include-path-regex = "^/admin/"
headers = { Authorization = "Bearer $ADMIN" }
EOF

log "schemathesis $SCHEMATHESIS_VERSION: $EXAMPLES examples per operation, seed $SEED, every check"
t0=$SECONDS
set +e
(cd "$CHAOS_TMP" && timeout "$ST_TIMEOUT" "$VENV/bin/st" --config-file "$CHAOS_TMP/schemathesis.toml" \
  run "$base/openapi.json" --checks all --continue-on-failure \
  --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 --no-color \
  --generation-database none --output-sanitize false \
  --report ndjson --report-ndjson-path "$OUT/report.ndjson" >"$OUT/schemathesis.txt" 2>&1)
st_rc=$?
set -e
elapsed=$((SECONDS - t0))
[ "$st_rc" = 124 ] && die "schemathesis did not finish within ${ST_TIMEOUT}s"
save_logs "$OUT"
if FUZZ_BASE=$base "$PY" "$CHAOS_DIR/fuzz_report.py" "$OUT/report.ndjson" "$OUT" >&2; then ok=1; else ok=0; fi
sed -i "s/\$/ (seed $SEED, $EXAMPLES examples per operation, ${elapsed}s)/" "$OUT/summary.txt"
log "mismatches and reproductions: $OUT/mismatches.txt; schemathesis output: $OUT/schemathesis.txt"
stop_server fuzz
[ "$ok" = 1 ] || die "fuzz: a 5xx or a non-problem+json error (see $OUT/mismatches.txt)"
