# Convenience recipes; the README's two commands (`cargo run --release`, `cargo test --workspace`)
# need none of them. Install just with `cargo install just` if you want them.

_default:
    @just --list

# Serve on 127.0.0.1:8080 (embedded PostgreSQL in ./.data unless DATABASE_URL is set).
run:
    cargo run --release

# The whole test suite (starts its own throwaway PostgreSQL).
test:
    cargo test --workspace

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Start a local dev PostgreSQL in ./.data/dev-postgres (prints its DATABASE_URL).
db:
    scripts/dev-db.sh start

# Stop the local dev PostgreSQL.
db-stop:
    scripts/dev-db.sh stop

# Apply migrations to DATABASE_URL (or the embedded database).
migrate:
    cargo run --release -- migrate

# Print a token: just token 42 [--admin]
token user *flags:
    cargo run -q --release -- token --user {{user}} {{flags}}

# Benchmarks against pgbench on a private PostgreSQL (results in docs/PERFORMANCE.md).
bench *args:
    scripts/bench.sh {{args}}

# The reliability suite: PostgreSQL restarts, two instances, kill -9, API fuzzing (--ci: short).
chaos *args:
    scripts/chaos.sh {{args}}
