//! # The HTTP adapter
//!
//! actix-web handlers for every endpoint of the order backend (`/v1` for buyers, `/admin/v1`
//! for admins), with:
//!
//! - bearer JWT authentication ([`JwtKeys`], [`AuthUser`], [`AdminUser`]);
//! - one error envelope, `application/problem+json`, for every failure ([`problem`]);
//! - `Idempotency-Key` on mutating `/v1` calls ([`idempotency`]);
//! - `GET /openapi.json` generated from the code ([`ApiDoc`]), `GET /health/live`,
//!   `GET /health/ready` ([`Readiness`]), `GET /metrics` ([`Metrics`]), and `X-Request-Id` on every
//!   response and in every log line ([`request_id`]).
//!
//! Request bodies become domain values before any use case runs; nothing from actix reaches the
//! domain.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn run(ports: domain::usecases::Ports) -> std::io::Result<()> {
//! use adapters_http::{AlwaysReady, HttpState, JwtKeys, serve};
//! use domain::usecases::{Policies, Services};
//!
//! let services = Services::new(&ports, Policies::default());
//! let state = HttpState::new(&ports, services, JwtKeys::new(b"secret"), Arc::new(AlwaysReady));
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! serve(listener, state, 2)?.await
//! # }
//! ```

pub mod auth;
mod domain_errors;
pub mod dto;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod request_id;
pub mod routes;
mod server;
mod state;

pub use auth::{AdminUser, AuthUser, JwtKeys, Principal, TokenError};
pub use health::{AlwaysReady, Readiness};
pub use metrics::{Metrics, PoolUsage};
pub use openapi::ApiDoc;
pub use problem::{ApiError, Code, Problem};
pub use routes::configure;
pub use server::{SHUTDOWN_TIMEOUT_SECS, app, serve};
pub use state::HttpState;
