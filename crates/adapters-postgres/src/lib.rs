//! # The persistence ports on PostgreSQL
//!
//! diesel 2.3 with diesel-async 0.9 over a deadpool pool, talking to PostgreSQL through
//! tokio-postgres: no libpq. [`PgStore`] implements every persistence port of
//! [`domain::ports`]; [`Repositories`] hands them out as `Arc<dyn Port>`.
//!
//! ```no_run
//! # async fn wire() -> anyhow::Result<()> {
//! use adapters_postgres::{Database, DatabaseConfig, PgStore, run_migrations};
//!
//! let url = "postgres://shop@localhost/shop".to_owned();
//! run_migrations(&url).await?;
//! let database = Database::new(&DatabaseConfig::new(url))?;
//! let repositories = PgStore::new(database).repositories();
//! // repositories.orders: Arc<dyn domain::ports::OrderRepository>, and so on.
//! # Ok(()) }
//! ```
//!
//! ## How conflicts are decided
//!
//! Every port method is one transaction at READ COMMITTED. Races are settled by the database,
//! never by reading and then writing: conditional updates (`.. WHERE stock >= $n`,
//! `.. WHERE status = 'CONFIRMING'`), `INSERT .. ON CONFLICT`, and the constraints of
//! `migrations/`. A statement that finds nothing to change is read back to tell the caller which
//! typed conflict it lost to; the transaction is then rolled back, so a failed call changes
//! nothing. Rows are locked in one order everywhere (order, payment, products by id, owned
//! coupon, point balance) so that concurrent calls cannot deadlock.
//!
//! ## Errors
//!
//! Conflicts come back as the ports' typed errors. Infrastructure failures are
//! `anyhow::Error`s; those meaning "the database cannot be reached or is saturated" (pool
//! timeout, refused or lost connection, statement timeout) wrap
//! [`domain::ports::StoreUnavailable`], which the HTTP layer answers with 503.

mod carts;
mod coupons;
mod db;
mod error;
mod idempotency;
mod migrations;
mod orders;
mod outbox;
mod payments;
mod points;
mod prepared;
mod products;
mod rows;
pub mod schema;
mod store;

pub use db::{Database, DatabaseConfig, PoolStats};
pub use migrations::{revert_all_migrations, run_migrations};
pub use store::{PgStore, Repositories};
