//! Configuration from environment variables, typed and validated once at start.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use adapters_toss::GatewayConfig;
use anyhow::{Context, bail};

/// A value that must never be printed (JWT secret, gateway key, a URL with a password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Everything the server needs, read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: run on the embedded PostgreSQL in `data_dir`.
    pub database_url: Option<Secret>,
    pub bind_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Where the embedded mode finds `initdb`/`pg_ctl`/`postgres`; `None` searches PATH and
    /// `/usr/lib/postgresql/*/bin`.
    pub postgres_bin_dir: Option<PathBuf>,
    /// Required with `DATABASE_URL`; generated and kept in `data_dir` for the embedded default.
    pub jwt_secret: Option<Secret>,
    /// `PAYMENT_GATEWAY`, `TOSS_*` and `SIMULATED_GATEWAY_LATENCY_MS`, read by the gateway crate.
    pub gateway: GatewayConfig,
    pub order_ttl: Duration,
    pub expire_interval: Duration,
    pub reconcile_interval: Duration,
    pub reconcile_after: Duration,
    pub db_pool_size: usize,
    pub log_format: LogFormat,
    /// actix workers; defaults to the number of cores.
    pub http_workers: usize,
}

/// Reads a variable; unset and empty both mean "absent".
fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn seconds(name: &str, default: u64) -> anyhow::Result<Duration> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(text) => {
            let secs: u64 = text.parse().with_context(|| {
                format!("{name} must be a whole number of seconds, got {text:?}")
            })?;
            if secs == 0 {
                bail!("{name} must be at least 1 second");
            }
            Ok(Duration::from_secs(secs))
        }
    }
}

fn number(
    name: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> anyhow::Result<usize> {
    let value = match var(name) {
        None => default,
        Some(text) => text
            .parse()
            .with_context(|| format!("{name} must be a number, got {text:?}"))?,
    };
    if !range.contains(&value) {
        bail!(
            "{name} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        );
    }
    Ok(value)
}

impl Config {
    /// Reads and validates the environment. Errors name the variable and what is wrong with it.
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url = var("DATABASE_URL").map(Secret::new);
        let jwt_secret = var("JWT_SECRET").map(Secret::new);
        if database_url.is_some() && jwt_secret.is_none() {
            bail!("JWT_SECRET is required when DATABASE_URL is set (at least 32 characters)");
        }
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < 32
        {
            bail!("JWT_SECRET must be at least 32 characters");
        }
        let bind_addr = var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind_addr: SocketAddr = bind_addr
            .parse()
            .with_context(|| format!("BIND_ADDR must be host:port, got {bind_addr:?}"))?;
        let gateway = GatewayConfig::from_env()?;
        let log_format = match var("LOG_FORMAT").as_deref().unwrap_or("pretty") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => bail!("LOG_FORMAT must be 'pretty' or 'json', got {other:?}"),
        };
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(Self {
            database_url,
            bind_addr,
            data_dir: PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./.data".to_owned())),
            postgres_bin_dir: var("POSTGRES_BIN_DIR").map(PathBuf::from),
            jwt_secret,
            gateway,
            order_ttl: seconds("ORDER_TTL_SECS", 1800)?,
            expire_interval: seconds("EXPIRE_INTERVAL_SECS", 60)?,
            reconcile_interval: seconds("RECONCILE_INTERVAL_SECS", 10)?,
            reconcile_after: seconds("RECONCILE_AFTER_SECS", 30)?,
            db_pool_size: number("DB_POOL_SIZE", 16, 2..=500)?,
            log_format,
            http_workers: number("HTTP_WORKERS", cores, 1..=256)?,
        })
    }

    /// The effective configuration, one line, without secrets.
    pub fn summary(&self) -> String {
        let database = if self.database_url.is_some() {
            "DATABASE_URL"
        } else {
            "embedded"
        };
        let gateway = match &self.gateway {
            GatewayConfig::Simulated(_) => "simulated".to_owned(),
            GatewayConfig::Toss(toss) => format!("toss ({})", toss.api_base()),
        };
        format!(
            "bind={} database={database} data_dir={} gateway={gateway} order_ttl={}s expire_every={}s \
             reconcile_every={}s reconcile_after={}s pool={} workers={}",
            self.bind_addr,
            self.data_dir.display(),
            self.order_ttl.as_secs(),
            self.expire_interval.as_secs(),
            self.reconcile_interval.as_secs(),
            self.reconcile_after.as_secs(),
            self.db_pool_size,
            self.http_workers,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
