//! The HTTP side: a client bound to the 127.0.0.1 base URL, tokens, and one call that sends,
//! times, classifies and records a request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::stats::{Class, Recorder};

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub latency: Duration,
}

impl Reply {
    /// The problem+json `code`, if the body has one.
    pub fn code(&self) -> Option<&str> {
        self.body.get("code").and_then(Value::as_str)
    }

    pub fn is(&self, status: u16) -> bool {
        self.status.as_u16() == status
    }

    /// A string field of the body.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(Value::as_str)
    }

    /// An integer field of the body.
    pub fn i64(&self, field: &str) -> Option<i64> {
        self.body.get(field).and_then(Value::as_i64)
    }

    /// `"409 OUT_OF_STOCK"`, `"201"`.
    pub fn key(&self) -> String {
        match self.code() {
            Some(code) => format!("{} {code}", self.status.as_u16()),
            None => self.status.as_u16().to_string(),
        }
    }
}

/// A request to send: method, path under the base URL, query pairs, JSON body.
#[derive(Debug, Clone)]
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<&'a Value>,
}

impl<'a> Req<'a> {
    pub fn get(path: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            query: &[],
            body: None,
        }
    }

    pub fn post(path: &'a str, body: Option<&'a Value>) -> Self {
        Self {
            method: Method::POST,
            path,
            query: &[],
            body,
        }
    }

    #[must_use]
    pub fn query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
        self.query = query;
        self
    }
}

/// The HTTP client, bound to one base URL on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    idempotency_keys: bool,
}

impl Api {
    /// `base` must already be checked by [`crate::target::loopback_base_url`].
    pub fn new(
        base: String,
        timeout: Duration,
        pool: usize,
        idempotency_keys: bool,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Never route through a proxy from the environment: 127.0.0.1 only.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .pool_max_idle_per_host(pool)
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base,
            idempotency_keys,
        })
    }

    /// Sends one request and reads the whole answer. `Err` is a transport failure (no answer).
    pub async fn send(&self, token: &str, req: &Req<'_>) -> Result<Reply, String> {
        let Req {
            method,
            path,
            query,
            body,
        } = req;
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if self.idempotency_keys && *method != Method::GET && path.starts_with("/v1/") {
            request = request.header(
                "Idempotency-Key",
                format!("lg-{:032x}", rand::random::<u128>()),
            );
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|e| transport_kind(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| transport_kind(&e))?;
        let latency = started.elapsed();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok(Reply {
            status,
            body,
            latency,
        })
    }
}

fn transport_kind(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "body".to_owned()
    } else {
        "request".to_owned()
    }
}

/// Bearer tokens: the admin's, and buyers' minted from the JWT secret.
#[derive(Clone)]
pub struct Tokens {
    key: Option<EncodingKey>,
    admin: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(..)")
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: String,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
}

/// Tokens live this long: longer than any run.
const TOKEN_TTL_SECS: u64 = 6 * 3600;

impl Tokens {
    pub fn new(jwt_secret: Option<&str>, admin_token: Option<String>) -> anyhow::Result<Self> {
        let key = jwt_secret.map(|s| EncodingKey::from_secret(s.as_bytes()));
        let admin = match (admin_token, &key) {
            (Some(token), _) => token,
            (None, Some(key)) => mint(key, 1, true)?,
            (None, None) => anyhow::bail!(
                "give --jwt-secret (or JWT_SECRET) so buyer tokens can be minted \
                 (--admin-token alone is not enough)"
            ),
        };
        anyhow::ensure!(
            key.is_some(),
            "--jwt-secret (or JWT_SECRET) is required to mint buyer tokens"
        );
        Ok(Self { key, admin })
    }

    pub fn admin(&self) -> &str {
        &self.admin
    }

    pub fn buyer(&self, user: i64) -> anyhow::Result<String> {
        let key = self
            .key
            .as_ref()
            .context("--jwt-secret is required to mint buyer tokens")?;
        mint(key, user, false)
    }
}

fn mint(key: &EncodingKey, user: i64, admin: bool) -> anyhow::Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let claims = Claims {
        sub: user.to_string(),
        iat: now,
        exp: now + TOKEN_TTL_SECS,
        role: admin.then_some("admin"),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).context("signing a token")
}

/// The bounds of the measured phase: a deadline, a request budget, and a stop flag (signals).
#[derive(Debug)]
pub struct Budget {
    deadline: Instant,
    remaining: AtomicU64,
    stopped: AtomicBool,
}

impl Budget {
    pub fn new(duration: Duration, max_requests: u64) -> Self {
        Self {
            deadline: Instant::now() + duration,
            remaining: AtomicU64::new(max_requests),
            stopped: AtomicBool::new(false),
        }
    }

    /// Takes `requests` from the budget if the phase is still on; a story is started only whole.
    pub fn begin(&self, requests: u64) -> bool {
        if self.stopped.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            return false;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(requests)
            })
            .is_ok()
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

/// What every virtual user shares during the measured phase.
#[derive(Debug)]
pub struct Run {
    pub api: Api,
    pub budget: Budget,
    pub recorder: Mutex<Recorder>,
}

/// Pause after a 5xx or a transport error, so a server in trouble is not hammered in a loop.
const BACKOFF: Duration = Duration::from_millis(50);

impl Run {
    pub fn with_recorder<T>(&self, f: impl FnOnce(&mut Recorder) -> T) -> T {
        let mut guard = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Sends a request and records it under `step`. Answers whose problem code is in
    /// `expected` count as expected. `None` when there was no answer.
    pub async fn call(
        &self,
        step: &'static str,
        expected: &[&str],
        token: &str,
        req: Req<'_>,
    ) -> Option<Reply> {
        match self.api.send(token, &req).await {
            Ok(reply) => {
                let class = if reply.status.is_success() {
                    Class::Ok
                } else if reply.status.is_server_error() {
                    Class::Server
                } else if reply.code().is_some_and(|c| expected.contains(&c)) {
                    Class::Expected
                } else {
                    Class::Unexpected
                };
                let key = reply.key();
                self.with_recorder(|r| r.request(step, Some(reply.latency), &key, class));
                if class == Class::Server {
                    tokio::time::sleep(BACKOFF).await;
                }
                Some(reply)
            }
            Err(kind) => {
                self.with_recorder(|r| {
                    r.request(step, None, &format!("transport: {kind}"), Class::Transport);
                });
                tokio::time::sleep(BACKOFF).await;
                None
            }
        }
    }
}
