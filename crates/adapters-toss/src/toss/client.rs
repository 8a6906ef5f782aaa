//! The HTTP calls to Toss Payments. What the answers mean is decided in `mapping`; this module
//! only sends requests and turns transport failures into `Unknown`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::model::{OrderKey, PaymentKey};
use domain::ports::{
    CancelOutcome, GatewayCancel, GatewayConfirm, GatewayLookup, GatewayOutcome, LookupOutcome,
    PaymentGateway,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{RequestBuilder, Url, redirect};
use serde::Serialize;
use time::OffsetDateTime;

use super::config::{TossConfig, parse_api_base};
use super::mapping::{self, Asked, ConfirmReply, LookupReply};
use super::wire::{CancelBody, ConfirmBody};
use crate::config::ConfigError;

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Toss rejects a longer `cancelReason`.
const MAX_CANCEL_REASON_CHARS: usize = 200;
const DEFAULT_CANCEL_REASON: &str = "order canceled";

/// The Toss Payments v1 API as a [`PaymentGateway`].
///
/// Every POST carries the request's `Idempotency-Key`, so a confirm or cancel sent again (by the
/// reconciler, after a timeout) is answered by Toss with the first answer instead of charging or
/// refunding twice.
pub struct TossGateway {
    http: reqwest::Client,
    api_base: Url,
    /// `Basic base64("<secretKey>:")`, marked sensitive so no `Debug` prints it.
    authorization: HeaderValue,
    timeout: Duration,
}

impl fmt::Debug for TossGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TossGateway")
            .field("api_base", &self.api_base.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// An HTTP answer, read whole.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl TossGateway {
    /// Builds the HTTPS client (rustls). Fails only on a bad config or if TLS cannot start.
    pub fn new(config: &TossConfig) -> Result<Self, ConfigError> {
        let api_base = parse_api_base(config.api_base())?;
        let credentials = BASE64.encode(format!("{}:", config.secret_key().expose()));
        let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| ConfigError::InvalidSecretKey)?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.connect_timeout())
            // A redirect would be a misconfiguration; never follow one with the secret key.
            .redirect(redirect::Policy::none())
            .user_agent(concat!("adapters-toss/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Self {
            http,
            api_base,
            authorization,
            timeout: config.timeout(),
        })
    }

    /// `{api_base}/a/b/c`, each segment percent-encoded (a payment key may hold `/` or `?`).
    fn endpoint(&self, segments: &[&str]) -> Result<Url, String> {
        let mut url = self.api_base.clone();
        url.path_segments_mut()
            .map_err(|()| "the API base cannot take a path".to_owned())?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn post<T: Serialize + Sync>(
        &self,
        segments: &[&str],
        idempotency_key: &str,
        body: &T,
    ) -> Result<Answer, String> {
        let url = self.endpoint(segments)?;
        let request = self
            .http
            .post(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(IDEMPOTENCY_KEY, idempotency_key)
            .json(body);
        self.send(request).await
    }

    async fn get(&self, segments: &[&str]) -> Result<Answer, String> {
        let url = self.endpoint(segments)?;
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, self.authorization.clone());
        self.send(request).await
    }

    /// Sends and reads the whole answer; a failure on the way is the reason for an `Unknown`.
    async fn send(&self, request: RequestBuilder) -> Result<Answer, String> {
        let response = request
            .send()
            .await
            .map_err(|e| transport_reason(&e, self.timeout))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_reason(&e, self.timeout))?;
        if mapping::is_auth_failure(status, &body) {
            // Every call will fail the same way until an operator fixes the key.
            tracing::error!(
                http.status = status,
                "Toss Payments rejected the secret key; check TOSS_SECRET_KEY"
            );
        }
        Ok(Answer {
            status,
            body: body.to_vec(),
        })
    }

    /// Looks the payment up by order id, and by its own key if Toss answers about another
    /// attempt of the same order.
    async fn look_up(&self, order_key: &OrderKey, payment_key: &PaymentKey) -> LookupOutcome {
        let order_id = order_key.to_string();
        let asked = Asked {
            payment_key: payment_key.as_str(),
            order_id: Some(&order_id),
        };
        let by_order = self.get(&["v1", "payments", "orders", &order_id]).await;
        match read_lookup(by_order, asked) {
            LookupReply::Outcome(outcome) => outcome,
            LookupReply::OtherPayment(found) => {
                tracing::debug!(
                    payment.found = %found,
                    "the order's latest Toss payment is another attempt; looking ours up by key"
                );
                let by_key = self.get(&["v1", "payments", payment_key.as_str()]).await;
                match read_lookup(by_key, asked) {
                    LookupReply::Outcome(outcome) => outcome,
                    LookupReply::OtherPayment(other) => LookupOutcome::Unknown(format!(
                        "looking up payment {payment_key} answered about {other}"
                    )),
                }
            }
        }
    }
}

fn read_lookup(answer: Result<Answer, String>, asked: Asked<'_>) -> LookupReply {
    match answer {
        Ok(answer) => mapping::lookup(
            answer.status,
            &answer.body,
            asked,
            OffsetDateTime::now_utc(),
        ),
        Err(reason) => LookupReply::Outcome(LookupOutcome::Unknown(reason)),
    }
}

/// A short reason for a request that got no HTTP answer. Never includes headers (the key).
fn transport_reason(error: &reqwest::Error, timeout: Duration) -> String {
    let what = if error.is_connect() {
        "could not connect to Toss Payments".to_owned()
    } else if error.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    };
    match root_cause(error) {
        Some(cause) if !error.is_timeout() => format!("{what}: {cause}"),
        _ => what,
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = error.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(cause.to_string())
}

/// Toss's `cancelReason`: required, at most 200 characters.
fn cancel_reason(reason: &str) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        DEFAULT_CANCEL_REASON.to_owned()
    } else {
        reason.chars().take(MAX_CANCEL_REASON_CHARS).collect()
    }
}

#[async_trait]
impl PaymentGateway for TossGateway {
    #[tracing::instrument(skip_all, fields(order.key = %request.order_key))]
    async fn confirm(&self, request: GatewayConfirm) -> GatewayOutcome {
        let order_id = request.order_key.to_string();
        let body = ConfirmBody {
            payment_key: request.payment_key.as_str(),
            order_id: &order_id,
            amount: request.amount.won(),
        };
        let answer = self
            .post(
                &["v1", "payments", "confirm"],
                &request.idempotency_key,
                &body,
            )
            .await;
        let outcome = match answer {
            Err(reason) => GatewayOutcome::Unknown(reason),
            Ok(answer) => {
                let asked = Asked {
                    payment_key: request.payment_key.as_str(),
                    order_id: Some(&order_id),
                };
                match mapping::confirm(
                    answer.status,
                    &answer.body,
                    asked,
                    OffsetDateTime::now_utc(),
                ) {
                    ConfirmReply::Outcome(outcome) => outcome,
                    ConfirmReply::AlreadyProcessed => {
                        let found = self.look_up(&request.order_key, &request.payment_key).await;
                        mapping::resolve_already_processed(found)
                    }
                }
            }
        };
        tracing::debug!(?outcome, "Toss confirm");
        outcome
    }

    #[tracing::instrument(skip_all, fields(payment.key = %request.payment_key))]
    async fn cancel(&self, request: GatewayCancel) -> CancelOutcome {
        let reason = cancel_reason(&request.reason);
        let body = CancelBody {
            cancel_reason: &reason,
            cancel_amount: request.amount.won(),
        };
        let answer = self
            .post(
                &["v1", "payments", request.payment_key.as_str(), "cancel"],
                &request.idempotency_key,
                &body,
            )
            .await;
        let outcome = match answer {
            Err(reason) => CancelOutcome::Unknown(reason),
            Ok(answer) => {
                let asked = Asked {
                    payment_key: request.payment_key.as_str(),
                    order_id: None,
                };
                mapping::cancel(answer.status, &answer.body, asked)
            }
        };
        tracing::debug!(?outcome, "Toss cancel");
        outcome
    }

    #[tracing::instrument(skip_all, fields(order.key = %request.order_key))]
    async fn lookup(&self, request: GatewayLookup) -> LookupOutcome {
        let outcome = self.look_up(&request.order_key, &request.payment_key).await;
        tracing::debug!(?outcome, "Toss look-up");
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toss::SecretKey;

    #[test]
    fn cancel_reasons_fit_tosss_limit() {
        assert_eq!(cancel_reason("  "), DEFAULT_CANCEL_REASON);
        assert_eq!(cancel_reason("고객 요청").chars().count(), 5);
        assert_eq!(cancel_reason(&"가".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn endpoints_keep_the_base_path_and_encode_segments() {
        let config = TossConfig::new(SecretKey::new("test_sk_x").unwrap())
            .with_api_base("https://proxy.example.com/toss/")
            .unwrap();
        let gateway = TossGateway::new(&config).unwrap();
        let url = gateway
            .endpoint(&["v1", "payments", "a/b?c#d", "cancel"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://proxy.example.com/toss/v1/payments/a%2Fb%3Fc%23d/cancel"
        );
    }

    #[test]
    fn debug_shows_no_credentials() {
        let config = TossConfig::new(SecretKey::new("test_sk_hidden").unwrap());
        let printed = format!("{:?}", TossGateway::new(&config).unwrap());
        assert!(!printed.contains("hidden"), "{printed}");
        assert!(!printed.contains("Basic"), "{printed}");
    }
}
