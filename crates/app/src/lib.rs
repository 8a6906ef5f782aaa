//! The `commerce` application: configuration, wiring of the adapters into the domain's use
//! cases, the embedded PostgreSQL default, background jobs and the CLI. Kept thin: every rule
//! lives in `domain`, every protocol in an adapter.

pub mod cli;
pub mod config;
pub mod embedded;
pub mod jobs;
pub mod publisher;
pub mod seed;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use startup::{Application, Overrides};
