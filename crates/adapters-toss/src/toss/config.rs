//! The Toss client's settings.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use crate::config::ConfigError;

/// A Toss Payments secret key (`test_sk_…` or `live_sk_…`). Its `Debug` never prints it, so a
/// config can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Accepts visible ASCII only: the key goes into an HTTP header.
    pub fn new(key: impl Into<String>) -> Result<Self, ConfigError> {
        let key = key.into();
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::MissingSecretKey);
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::InvalidSecretKey);
        }
        Ok(Self(key.to_owned()))
    }

    /// A test key charges nobody; useful to warn when a live key is used outside production.
    pub fn is_test_key(&self) -> bool {
        self.0.starts_with("test_")
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// How to reach Toss Payments.
#[derive(Debug, Clone)]
pub struct TossConfig {
    secret_key: SecretKey,
    /// Validated by [`parse_api_base`]; kept as text so that `new` cannot fail.
    api_base: String,
    timeout: Duration,
    connect_timeout: Duration,
}

impl TossConfig {
    pub const DEFAULT_API_BASE: &'static str = "https://api.tosspayments.com";
    /// Short on purpose: a confirm that takes longer becomes `Unknown` and the reconciler finishes
    /// it, while the buyer gets an answer (202) instead of a hung request.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

    /// The production API with the default timeouts.
    pub fn new(secret_key: SecretKey) -> Self {
        Self {
            secret_key,
            api_base: Self::DEFAULT_API_BASE.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Another API base (a proxy, or a local fake in tests). HTTPS is required, except on a
    /// loopback address: the secret key travels in every request.
    pub fn with_api_base(mut self, api_base: &str) -> Result<Self, ConfigError> {
        parse_api_base(api_base)?;
        api_base.trim().clone_into(&mut self.api_base);
        Ok(self)
    }

    /// The whole-request timeout (connect, send, and read the answer).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    #[must_use]
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// Parses and checks an API base URL.
pub(crate) fn parse_api_base(text: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidApiBase {
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    let Some(host) = url.host_str() else {
        return Err(invalid("it has no host"));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(invalid("plain http is only allowed on a loopback address")),
        _ => return Err(invalid("the scheme must be https")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_prints() {
        let config = TossConfig::new(SecretKey::new("test_sk_very_secret").unwrap());
        let printed = format!("{config:?}");
        assert!(!printed.contains("very_secret"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn secret_keys_are_visible_ascii() {
        assert!(matches!(
            SecretKey::new("  "),
            Err(ConfigError::MissingSecretKey)
        ));
        assert!(matches!(
            SecretKey::new("test sk"),
            Err(ConfigError::InvalidSecretKey)
        ));
        let key = SecretKey::new(" test_sk_abc\n").unwrap();
        assert_eq!(key.expose(), "test_sk_abc");
        assert!(key.is_test_key());
        assert!(!SecretKey::new("live_sk_abc").unwrap().is_test_key());
    }

    #[test]
    fn defaults() {
        let config = TossConfig::new(SecretKey::new("test_sk_x").unwrap());
        assert_eq!(config.api_base(), "https://api.tosspayments.com");
        assert_eq!(config.timeout(), Duration::from_secs(10));
        assert_eq!(config.connect_timeout(), Duration::from_secs(3));
    }

    #[test]
    fn api_base_must_be_https_unless_loopback() {
        let config = || TossConfig::new(SecretKey::new("test_sk_x").unwrap());
        assert!(
            config()
                .with_api_base("https://toss.example.com/proxy")
                .is_ok()
        );
        assert!(config().with_api_base("http://127.0.0.1:8089").is_ok());
        assert!(config().with_api_base("http://localhost:8089").is_ok());
        assert!(config().with_api_base("http://[::1]:8089").is_ok());
        for bad in [
            "http://api.tosspayments.com",
            "ftp://127.0.0.1",
            "not a url",
            "https://x.example.com/?a=b",
        ] {
            assert!(
                matches!(
                    config().with_api_base(bad),
                    Err(ConfigError::InvalidApiBase { .. })
                ),
                "{bad}"
            );
        }
    }
}
