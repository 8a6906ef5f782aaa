//! # The payment gateway adapters
//!
//! Two implementations of the domain's [`PaymentGateway`](domain::ports::PaymentGateway) port:
//!
//! - [`TossGateway`]: the Toss Payments v1 API over HTTPS (reqwest + rustls). Every answer is
//!   mapped to the port's outcomes by the pure functions of `toss::mapping`; anything that does not
//!   prove what happened (a timeout, a 5xx, a body we cannot read) is `Unknown`, so the domain's
//!   reconciler looks the payment up later instead of guessing.
//! - [`SimulatedGateway`]: an in-process gateway, the embedded default. It decides by the
//!   `paymentKey` prefix (`decline-`, `timeout-`, `error-`, see [`simulated`]) and remembers what it
//!   did, so tests, demos and load runs can drive every outcome over HTTP.
//!
//! The app picks one with [`GatewayConfig`] (usually [`GatewayConfig::from_env`]) and
//! [`build_gateway`].
//!
//! ```
//! use adapters_toss::{GatewayConfig, SecretKey, TossConfig, build_gateway};
//!
//! # fn main() -> Result<(), adapters_toss::ConfigError> {
//! let simulated = build_gateway(GatewayConfig::default())?;
//!
//! let toss = TossConfig::new(SecretKey::new("test_sk_example")?)
//!     .with_timeout(std::time::Duration::from_secs(5));
//! let real = build_gateway(GatewayConfig::Toss(toss))?;
//! # let _ = (simulated, real);
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod simulated;
pub mod toss;

pub use config::{ConfigError, GatewayConfig, build_gateway};
pub use simulated::{SimulatedConfig, SimulatedGateway};
pub use toss::{SecretKey, TossConfig, TossGateway};
