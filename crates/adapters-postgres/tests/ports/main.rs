//! Every port method against a real PostgreSQL: the happy path and each conflict.
// Tests fail by panicking: unwrap, expect and panic are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod carts;
mod coupons;
mod idempotency;
mod orders;
mod outbox;
mod payments;
mod points;
mod pool;
mod products;
