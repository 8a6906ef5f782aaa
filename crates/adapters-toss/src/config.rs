//! Choosing and building the gateway.
//!
//! The app reads the environment once at start ([`GatewayConfig::from_env`]) and builds the
//! gateway with [`build_gateway`]; nothing else in this crate reads environment variables.

use std::sync::Arc;
use std::time::Duration;

use domain::ports::PaymentGateway;

use crate::simulated::{SimulatedConfig, SimulatedGateway};
use crate::toss::{SecretKey, TossConfig, TossGateway};

/// The environment variables [`GatewayConfig::from_env`] reads.
pub mod env {
    /// `simulated` (default) or `toss`.
    pub const PAYMENT_GATEWAY: &str = "PAYMENT_GATEWAY";
    /// Required with `PAYMENT_GATEWAY=toss`: `test_sk_…` or `live_sk_…`.
    pub const TOSS_SECRET_KEY: &str = "TOSS_SECRET_KEY";
    /// Default `https://api.tosspayments.com`.
    pub const TOSS_API_BASE: &str = "TOSS_API_BASE";
    /// Whole-request timeout in seconds (default 10).
    pub const TOSS_TIMEOUT_SECS: &str = "TOSS_TIMEOUT_SECS";
    /// Connect timeout in seconds (default 3).
    pub const TOSS_CONNECT_TIMEOUT_SECS: &str = "TOSS_CONNECT_TIMEOUT_SECS";
    /// Artificial latency of the simulated gateway in milliseconds (default 0), for load runs.
    pub const SIMULATED_GATEWAY_LATENCY_MS: &str = "SIMULATED_GATEWAY_LATENCY_MS";
}

/// Why the gateway configuration cannot be used. Each message says what to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("PAYMENT_GATEWAY must be `simulated` or `toss`, not {0:?}")]
    UnknownGateway(String),
    #[error(
        "PAYMENT_GATEWAY=toss needs TOSS_SECRET_KEY (a test key starts with `test_sk_`, a live key with `live_sk_`)"
    )]
    MissingSecretKey,
    #[error("TOSS_SECRET_KEY must be visible ASCII characters without spaces")]
    InvalidSecretKey,
    #[error("TOSS_API_BASE {value:?} cannot be used: {reason}")]
    InvalidApiBase { value: String, reason: String },
    #[error("{name} must be a whole number, not {value:?}")]
    InvalidNumber { name: &'static str, value: String },
    #[error("the HTTPS client could not be built: {0}")]
    HttpClient(String),
}

/// Which payment gateway to use.
#[derive(Debug, Clone)]
pub enum GatewayConfig {
    /// In-process, decides by the `paymentKey` prefix. The default.
    Simulated(SimulatedConfig),
    /// Toss Payments over HTTPS.
    Toss(TossConfig),
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self::Simulated(SimulatedConfig::default())
    }
}

impl GatewayConfig {
    /// Reads the variables of [`mod@env`] from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables of [`mod@env`] through `get` (so tests need not touch the environment).
    /// An empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let kind = get(env::PAYMENT_GATEWAY).unwrap_or_else(|| "simulated".to_owned());
        match kind.trim().to_ascii_lowercase().as_str() {
            "simulated" => {
                let latency = number(
                    env::SIMULATED_GATEWAY_LATENCY_MS,
                    get(env::SIMULATED_GATEWAY_LATENCY_MS),
                )?
                .map_or(Duration::ZERO, Duration::from_millis);
                Ok(Self::Simulated(SimulatedConfig { latency }))
            }
            "toss" => {
                let secret = get(env::TOSS_SECRET_KEY).ok_or(ConfigError::MissingSecretKey)?;
                let mut config = TossConfig::new(SecretKey::new(secret)?);
                if let Some(base) = get(env::TOSS_API_BASE) {
                    config = config.with_api_base(&base)?;
                }
                if let Some(secs) = number(env::TOSS_TIMEOUT_SECS, get(env::TOSS_TIMEOUT_SECS))? {
                    config = config.with_timeout(Duration::from_secs(secs));
                }
                if let Some(secs) = number(
                    env::TOSS_CONNECT_TIMEOUT_SECS,
                    get(env::TOSS_CONNECT_TIMEOUT_SECS),
                )? {
                    config = config.with_connect_timeout(Duration::from_secs(secs));
                }
                Ok(Self::Toss(config))
            }
            _ => Err(ConfigError::UnknownGateway(kind)),
        }
    }
}

fn number(name: &'static str, value: Option<String>) -> Result<Option<u64>, ConfigError> {
    value
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| ConfigError::InvalidNumber { name, value: v })
        })
        .transpose()
}

/// Builds the configured gateway.
pub fn build_gateway(config: GatewayConfig) -> Result<Arc<dyn PaymentGateway>, ConfigError> {
    match config {
        GatewayConfig::Simulated(config) => Ok(Arc::new(SimulatedGateway::from_config(config))),
        GatewayConfig::Toss(config) => {
            if !config.secret_key().is_test_key() {
                tracing::info!("Toss Payments with a live secret key: payments are real");
            }
            Ok(Arc::new(TossGateway::new(&config)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<GatewayConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GatewayConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn simulated_is_the_default() {
        assert!(matches!(
            from(&[]),
            Ok(GatewayConfig::Simulated(SimulatedConfig { latency })) if latency.is_zero()
        ));
        assert!(matches!(
            from(&[("PAYMENT_GATEWAY", ""), ("SIMULATED_GATEWAY_LATENCY_MS", "25")]),
            Ok(GatewayConfig::Simulated(SimulatedConfig { latency }))
                if latency == Duration::from_millis(25)
        ));
    }

    #[test]
    fn toss_needs_a_secret_key() {
        let error = from(&[("PAYMENT_GATEWAY", "toss")]).unwrap_err();
        assert!(matches!(error, ConfigError::MissingSecretKey));
        assert!(error.to_string().contains("TOSS_SECRET_KEY"));
        assert!(matches!(
            from(&[("PAYMENT_GATEWAY", "toss"), ("TOSS_SECRET_KEY", " ")]),
            Err(ConfigError::MissingSecretKey)
        ));
    }

    #[test]
    fn toss_reads_its_variables() {
        let config = from(&[
            ("PAYMENT_GATEWAY", "Toss"),
            ("TOSS_SECRET_KEY", "test_sk_abc"),
            ("TOSS_API_BASE", "http://127.0.0.1:9999"),
            ("TOSS_TIMEOUT_SECS", "4"),
            ("TOSS_CONNECT_TIMEOUT_SECS", "1"),
        ])
        .unwrap();
        let GatewayConfig::Toss(toss) = config else {
            panic!("expected toss");
        };
        assert_eq!(toss.api_base(), "http://127.0.0.1:9999");
        assert_eq!(toss.timeout(), Duration::from_secs(4));
        assert_eq!(toss.connect_timeout(), Duration::from_secs(1));
        assert!(!format!("{toss:?}").contains("test_sk_abc"));
    }

    #[test]
    fn bad_values_are_named() {
        assert!(matches!(
            from(&[("PAYMENT_GATEWAY", "paypal")]),
            Err(ConfigError::UnknownGateway(v)) if v == "paypal"
        ));
        assert!(matches!(
            from(&[
                ("PAYMENT_GATEWAY", "toss"),
                ("TOSS_SECRET_KEY", "test_sk_abc"),
                ("TOSS_TIMEOUT_SECS", "ten"),
            ]),
            Err(ConfigError::InvalidNumber {
                name: "TOSS_TIMEOUT_SECS",
                ..
            })
        ));
        assert!(matches!(
            from(&[
                ("PAYMENT_GATEWAY", "toss"),
                ("TOSS_SECRET_KEY", "test_sk_abc"),
                ("TOSS_API_BASE", "http://api.tosspayments.com"),
            ]),
            Err(ConfigError::InvalidApiBase { .. })
        ));
    }

    #[test]
    fn both_gateways_build() {
        assert!(build_gateway(GatewayConfig::default()).is_ok());
        let toss = TossConfig::new(SecretKey::new("test_sk_abc").unwrap());
        assert!(build_gateway(GatewayConfig::Toss(toss)).is_ok());
    }
}
