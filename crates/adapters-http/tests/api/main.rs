//! Handler tests: the real app (`adapters_http::app`) over the domain's services, with mocked
//! ports. One test binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod auth;
mod cart;
mod coupons;
mod errors;
mod idempotency;
mod ops;
mod orders;
mod payments;
mod points;
mod products;
