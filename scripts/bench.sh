#!/usr/bin/env bash
# `just bench`: the load generator's scenarios against `commerce` (release build) on a private
# PostgreSQL with fixed settings, then pgbench running the minimal SQL of the same jobs on the
# same PostgreSQL at the same concurrency; prints each scenario's throughput as a ratio of
# pgbench's, and the server's peak RSS. Everything listens on 127.0.0.1 only and is stopped and
# removed at the end. Method and latest results: docs/PERFORMANCE.md.
#
# Knobs (environment):
#   BENCH_CONCURRENCY  virtual users and pgbench clients (16)
#   BENCH_DURATION     seconds per measured run, loadgen and pgbench alike (20)
#   BENCH_SCENARIOS    which scenarios ("place-order purchase hot-product read-mostly")
#   BENCH_PRODUCTS     products seeded for place-order (10000)
#   BENCH_PG_PORT      PostgreSQL's port (55433), BENCH_HTTP_PORT the server's (18080)
#   BENCH_OUT          where the run's reports go (target/bench)
#   BENCH_LOADGEN_THREADS  the load generator's worker threads (1)
#   BENCH_NO_BUILD=1   use the release binaries as they are
#   BENCH_COMMERCE     another commerce binary to measure (e.g. a branch's build)
#   DB_POOL_SIZE, HTTP_WORKERS  passed through to the server when set
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

concurrency=${BENCH_CONCURRENCY:-16}
duration=${BENCH_DURATION:-20}
scenarios=${BENCH_SCENARIOS:-"place-order purchase hot-product read-mostly"}
products=${BENCH_PRODUCTS:-10000}
pg_port=${BENCH_PG_PORT:-55433}
http_port=${BENCH_HTTP_PORT:-18080}
out=${BENCH_OUT:-$root/target/bench}
loadgen_threads=${BENCH_LOADGEN_THREADS:-1}

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 2; }

command -v jq >/dev/null || die "jq is needed to read the load generator's summaries (apt-get install jq)"
command -v pgbench >/dev/null || die "pgbench is needed (apt-get install postgresql-client)"
bin=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)")
if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
  die "no PostgreSQL server binaries (apt-get install postgresql)"
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  say "building release binaries (commerce, loadgen)"
  cargo build --release -q -p app -p loadgen
fi
commerce=${BENCH_COMMERCE:-$root/target/release/commerce}
loadgen=$root/target/release/loadgen
if [ ! -x "$commerce" ] || [ ! -x "$loadgen" ]; then die "missing $commerce or $loadgen"; fi

# A short path: the unix socket lives here too (socket paths must stay under ~100 bytes).
work=$(mktemp -d /tmp/bench.XXXXXX)
data=$work/data
server_pid=
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$out" "$data"
rm -f "$out"/*.json "$out"/*.txt
[ "$(id -u)" = 0 ] && chown -R postgres "$work"

say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $data, port $pg_port"
as_pg "$bin/initdb" -D "$data" -U postgres -A trust --no-locale -E UTF8 >/dev/null
# Fixed settings: durable commits (fsync, synchronous_commit, full page writes all on), a
# shared_buffers that holds the whole data set, checkpoints spaced out so none lands mid-run.
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work'
max_connections = 100
shared_buffers = 256MB
work_mem = 4MB
fsync = on
synchronous_commit = on
full_page_writes = on
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 30min
autovacuum = on
jit = off
log_min_messages = warning
EOF
as_pg "$bin/pg_ctl" -D "$data" -l "$work/postgres.log" -w start >/dev/null
db_url="postgres://postgres@127.0.0.1:$pg_port/commerce"
psql_() { psql -X -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$pg_port/$1" "${@:2}"; }
psql_ postgres -c 'CREATE DATABASE commerce'

jwt_secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
say "starting commerce on 127.0.0.1:$http_port"
env DATABASE_URL="$db_url" JWT_SECRET="$jwt_secret" BIND_ADDR="127.0.0.1:$http_port" \
  LOG_FORMAT=json RUST_LOG=warn PAYMENT_GATEWAY=simulated \
  ${DB_POOL_SIZE:+DB_POOL_SIZE=$DB_POOL_SIZE} ${HTTP_WORKERS:+HTTP_WORKERS=$HTTP_WORKERS} \
  "$commerce" serve >"$work/server.log" 2>&1 &
server_pid=$!
for i in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server exited"; }
  sleep 0.2
  [ "$i" = 100 ] && die "the server did not listen within 20 s"
done

rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$server_pid/status" 2>/dev/null || echo 0; }
checkpoint() { psql_ commerce -c 'CHECKPOINT' >/dev/null; }

failed=0
loadgen_run() {
  local scenario=$1; shift
  say "loadgen $scenario (concurrency $concurrency, $duration s)"
  checkpoint
  local status=0
  "$loadgen" --base-url "http://127.0.0.1:$http_port" --jwt-secret "$jwt_secret" \
    --concurrency "$concurrency" --duration "$duration" --threads "$loadgen_threads" --quiet \
    --summary-json "$out/$scenario.json" "$scenario" "$@" | tee "$out/$scenario.txt" || status=$?
  if [ "$status" != 0 ]; then
    echo "bench: loadgen $scenario exited $status" >&2
    failed=1
  fi
  echo "rss after $scenario: $(( $(rss_kib VmRSS) / 1024 )) MiB (peak so far $(( $(rss_kib VmHWM) / 1024 )) MiB)" | tee -a "$out/$scenario.txt"
}

pgbench_setup_done=
pgbench_run() {
  local job=$1
  if [ -z "$pgbench_setup_done" ]; then
    read -r minpid maxpid < <(psql_ commerce -At -F ' ' -f "$root/bench/pgbench/setup.sql")
    pgbench_setup_done=1
  fi
  say "pgbench $job.sql (-c $concurrency -j 2 -T $duration, prepared)"
  checkpoint
  local status=0
  rm -f "$work/pgblog-$job".*
  pgbench -n -M prepared -c "$concurrency" -j 2 -T "$duration" \
    -D minpid="$minpid" -D maxpid="$maxpid" -l --log-prefix="$work/pgblog-$job" \
    -f "$root/bench/pgbench/$job.sql" "$db_url" >"$out/pgbench-$job.txt" 2>&1 || status=$?
  # Per-transaction latencies (3rd column, µs) → p50/p90/p99/max in ms.
  cat "$work/pgblog-$job".* 2>/dev/null | awk '{print $3}' | sort -n | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit
      split("0.50 0.90 0.99", q, " ")
      for (i = 1; i <= 3; i++) { k = int(NR * q[i] + 0.999999); if (k < 1) k = 1; printf "%.2f ", v[k] / 1000 }
      printf "%.2f\n", v[NR] / 1000
    }' >"$out/pgbench-$job.lat"
  rm -f "$work/pgblog-$job".*
  grep -E '^(number of (transactions|failed)|latency average|tps)' "$out/pgbench-$job.txt" >&2 || true
  echo "latency p50/p90/p99/max ms: $(cat "$out/pgbench-$job.lat")" >&2
  if [ "$status" != 0 ]; then
    tail -n 20 "$out/pgbench-$job.txt" >&2
    echo "bench: pgbench $job exited $status" >&2
    failed=1
  fi
}

for scenario in $scenarios; do
  case $scenario in
    place-order) loadgen_run place-order --products "$products"; pgbench_run place_order ;;
    purchase) loadgen_run purchase; pgbench_run purchase ;;
    hot-product) loadgen_run hot-product ;;
    read-mostly) loadgen_run read-mostly ;;
    *) die "unknown scenario $scenario" ;;
  esac
done

peak_kib=$(rss_kib VmHWM)
tps() { sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$out/pgbench-$1.txt" 2>/dev/null | head -n1; }
pglat() { sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$out/pgbench-$1.txt" 2>/dev/null | head -n1; }

{
  echo
  echo "== results: $(nproc) cores, concurrency $concurrency, $duration s per run, $(date -u +%Y-%m-%dT%H:%MZ)"
  printf '%-12s %-22s %10s %8s %8s %8s %8s %10s %8s\n' scenario unit "per s" "p50 ms" "p90 ms" "p99 ms" "max ms" "pgbench/s" ratio
  for scenario in $scenarios; do
    f=$out/$scenario.json
    [ -f "$f" ] || continue
    case $scenario in
      place-order) job=place_order; step=order ;;
      purchase) job=purchase; step=purchase ;;
      hot-product) job=; step=confirm ;;
      read-mostly) job=; step="list page" ;;
    esac
    rate=$(jq -r .completedPerSec "$f")
    pg=; ratio=-
    if [ -n "$job" ]; then
      pg=$(tps "$job")
      [ -n "$pg" ] && pg=$(printf '%.1f' "$pg")
      [ -n "$pg" ] && ratio=$(awk -v a="$rate" -v b="$pg" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    fi
    printf '%-12s %-22s %10s %8s %8s %8s %8s %10s %8s\n' "$scenario" "$(jq -r .completedName "$f" | cut -c1-22)" "$rate" \
      "$(jq -r --arg s "$step" '.steps[$s].p50Ms' "$f")" "$(jq -r --arg s "$step" '.steps[$s].p90Ms' "$f")" \
      "$(jq -r --arg s "$step" '.steps[$s].p99Ms' "$f")" "$(jq -r --arg s "$step" '.steps[$s].maxMs' "$f")" \
      "${pg:--}" "$ratio"
  done
  for job in place_order purchase; do
    [ -f "$out/pgbench-$job.txt" ] && echo "pgbench $job.sql: $(tps "$job") tps, latency average $(pglat "$job") ms, p50/p90/p99/max $(cat "$out/pgbench-$job.lat" 2>/dev/null) ms"
  done
  [ -f "$out/hot-product.txt" ] && grep '^check:' "$out/hot-product.txt" | sed 's/^/hot-product /'
  echo "server peak RSS (VmHWM): $(( peak_kib / 1024 )) MiB ($peak_kib KiB)"
  echo "reports: $out"
} | tee "$out/results.txt"

if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "bench: the server logged errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -n 5 >&2
fi
cp "$work/server.log" "$out/server.log"
exit "$failed"
