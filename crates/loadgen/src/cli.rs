//! The command line. Flags common to every scenario are global (they may come before or after
//! the scenario name); each scenario has its own seeding flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Load generator for the commerce order backend.
///
/// Seeds its own users, products and coupons through the admin API, runs one scenario at a given
/// concurrency for a bounded time and request count, and prints requests/s, p50/p90/p99/max
/// latency per step and the error counts by status and problem `code`. It talks to 127.0.0.1 only.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about,
    after_help = "Exit status: 0 when the run passed; 1 when it saw a 5xx answer or a transport \
                  error (unless --allow-5xx), an unexpected answer (unless --allow-errors), or a \
                  failed check (hot-product's stock invariant, read-mostly's page counts); 2 when \
                  it could not run (bad flags, server unreachable, seeding failed).\n\n\
                  Example:\n  loadgen --jwt-secret \"$JWT_SECRET\" --concurrency 16 --duration 30 \
                  purchase --coupon-percent 30 --points-percent 50"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// Flags every scenario takes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Run options (every scenario)")]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
pub struct Common {
    /// The server: http://127.0.0.1:<port> (any other host is refused).
    #[arg(
        long,
        global = true,
        env = "LOADGEN_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub base_url: String,

    /// The server's JWT_SECRET: buyer tokens (and the admin token, unless given) are minted with
    /// it (HS256, `sub` = user id).
    #[arg(long, global = true, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// An admin bearer token (e.g. from `commerce token --user 1 --admin`); minted from
    /// --jwt-secret when absent.
    #[arg(
        long,
        global = true,
        env = "LOADGEN_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// Concurrent virtual users (hot-product uses --buyers instead).
    #[arg(long, global = true, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// How long the measured phase runs, in seconds (seeding comes before and is not measured).
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,

    /// At most this many requests in the measured phase (a story is only started whole).
    #[arg(long, global = true, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_requests: u64,

    /// Per-request timeout, in seconds.
    #[arg(long, global = true, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub request_timeout: u64,

    /// Worker threads of the load generator's runtime.
    #[arg(long, global = true, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,

    /// Concurrent requests while seeding.
    #[arg(long, global = true, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=512))]
    pub seed_concurrency: u32,

    /// First buyer user id of this run (default: a random id above 10^12, so runs never share
    /// users).
    #[arg(long, global = true, value_parser = clap::value_parser!(i64).range(1..=4_000_000_000_000_000))]
    pub user_base: Option<i64>,

    /// Send a fresh Idempotency-Key on every mutating /v1 call.
    #[arg(long, global = true)]
    pub idempotency_keys: bool,

    /// Do not fail the run on 5xx answers or transport errors (e.g. while PostgreSQL restarts).
    #[arg(long, global = true)]
    pub allow_5xx: bool,

    /// Do not fail the run on unexpected 4xx answers.
    #[arg(long, global = true)]
    pub allow_errors: bool,

    /// Write a JSON summary of the run to this file.
    #[arg(long, global = true, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,

    /// Seed of the random choices (products, quantities, coupon and point use).
    #[arg(long, global = true)]
    pub rng_seed: Option<u64>,

    /// No progress lines on stderr.
    #[arg(long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Scenario {
    /// POST /v1/orders for random products among many with plenty of stock.
    PlaceOrder(PlaceOrderArgs),
    /// The whole story per virtual user: order -> checkout -> request payment (a coupon for
    /// some, points for some) -> confirm on the simulated gateway -> order detail.
    Purchase(PurchaseArgs),
    /// Many buyers race for one product with little stock; then checks through the API that paid
    /// orders = initial stock - final stock and that stock >= 0 (PASS/FAIL).
    HotProduct(HotProductArgs),
    /// Order list (every page, status=ALL) and order detail for users with many orders.
    ReadMostly(ReadMostlyArgs),
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Self::PlaceOrder(_) => "place-order",
            Self::Purchase(_) => "purchase",
            Self::HotProduct(_) => "hot-product",
            Self::ReadMostly(_) => "read-mostly",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct PlaceOrderArgs {
    /// Products to seed (each with plenty of stock).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub products: u32,
    /// Buyer users, shared round-robin by the virtual users.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub users: u32,
}

#[derive(Debug, Clone, Args)]
pub struct PurchaseArgs {
    /// Products to seed (each with plenty of stock).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub products: u32,
    /// Buyer users per virtual user (each virtual user has its own, so no two race on one
    /// user's coupons).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub users_per_vu: u32,
    /// Coupons to create; every buyer downloads each of them once while seeding (a buyer with
    /// none left pays without one).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(0..=200))]
    pub coupons: u32,
    /// Percent of purchases that apply a coupon (the first usable one the checkout offers,
    /// while the buyer has any left).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub coupon_percent: u8,
    /// Percent of purchases that spend points.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub points_percent: u8,
    /// Points spent by a purchase that spends points (granted generously while seeding).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub use_point: i64,
    /// Percent of confirms sent with a `decline-` payment key (answered 402, order stays payable).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub decline_percent: u8,
    /// Percent of confirms sent with a `timeout-` payment key (answered 202; the reconciler
    /// settles them later).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub unknown_percent: u8,
}

#[derive(Debug, Clone, Args)]
pub struct HotProductArgs {
    /// The product's initial stock.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub stock: u32,
    /// Buyers racing for it (each one a user and a task; --concurrency is not used).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub buyers: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ReadMostlyArgs {
    /// Users with many orders.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub users: u32,
    /// Orders seeded per user.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub orders_per_user: u32,
    /// `limit` of each list page.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub page_size: u8,
    /// Order details fetched after each full walk of a user's list.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub details: u32,
}
