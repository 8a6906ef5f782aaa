//! The Toss Payments v1 API client.
//!
//! - `config`: the secret key and the client's settings.
//! - `wire`: the JSON shapes Toss sends and receives.
//! - `mapping`: Toss's answers → the port's outcomes (pure, unit-tested).
//! - `client`: the HTTP calls.

mod client;
mod config;
mod mapping;
mod wire;

pub use client::TossGateway;
pub use config::{SecretKey, TossConfig};
