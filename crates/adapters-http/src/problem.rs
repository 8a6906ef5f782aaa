//! # The error story
//!
//! Every failure a client sees is one envelope: an RFC 9457 problem document,
//! `application/problem+json`, `{type, title, status, detail, code}`. `code` is a stable
//! upper-snake identifier clients branch on ([`Code`] lists them all, each with one status);
//! `detail` is for people; a few codes add typed fields (`gatewayCode`, `productId`, ..).
//!
//! - Use cases return one error enum per operation; `crate::domain_errors` maps every variant to
//!   a [`Code`]. Business failures are answers, not faults: they are not logged.
//! - `Unknown(anyhow::Error)` becomes 503 `SERVICE_UNAVAILABLE` when the store is unreachable
//!   ([`domain::ports::is_unavailable`], logged at warn), otherwise 500 `INTERNAL_ERROR`, logged
//!   once at error level inside the request's span (so with its request id) and answered with a
//!   generic detail that leaks nothing ([`ApiError::from_infra`]).
//! - Extractor failures (malformed JSON, wrong types, unknown fields, bad path or query values,
//!   bodies over [`BODY_LIMIT`]) are turned into problems by the configs of [`extractor_configs`].
//! - Whatever else would reach a client as a non-problem error (actix's own 404/405, a payload
//!   error) is rewritten by the [`normalize`] middleware, the last line of defence.
//! - Outside requests (startup, jobs) the app uses `anyhow`; this module is only about HTTP.

use std::fmt;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{JsonConfig, PathConfig, PayloadConfig, QueryConfig};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The largest request body accepted (64 KiB): no endpoint needs more, and a bound keeps a
/// client from making the server buffer arbitrary amounts.
pub const BODY_LIMIT: usize = 64 * 1024;

macro_rules! codes {
    ($($variant:ident = ($status:literal, $code:literal, $title:literal),)*) => {
        /// Every error code the API answers, with its HTTP status and title.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// All codes, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable upper-snake identifier.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The HTTP status this code is always answered with.
            pub const fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// A short summary that is the same for every occurrence of the code.
            pub const fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

codes! {
    ValidationError = (400, "VALIDATION_ERROR", "The request is invalid"),
    MalformedJson = (400, "MALFORMED_JSON", "The body is not valid JSON"),
    InvalidIdempotencyKey = (400, "INVALID_IDEMPOTENCY_KEY", "The Idempotency-Key header is invalid"),
    AmountMismatch = (400, "AMOUNT_MISMATCH", "The amount does not match the payment"),
    PointsExceedPayable = (400, "POINTS_EXCEED_PAYABLE", "More points than the order costs"),
    BadRequest = (400, "BAD_REQUEST", "The request could not be understood"),
    Unauthorized = (401, "UNAUTHORIZED", "Authentication is required"),
    PaymentDeclined = (402, "PAYMENT_DECLINED", "The payment was declined"),
    Forbidden = (403, "FORBIDDEN", "Not allowed"),
    NotFound = (404, "NOT_FOUND", "No such resource"),
    OrderNotFound = (404, "ORDER_NOT_FOUND", "Order not found"),
    ProductNotFound = (404, "PRODUCT_NOT_FOUND", "Product not found"),
    CartItemNotFound = (404, "CART_ITEM_NOT_FOUND", "Cart item not found"),
    CouponNotFound = (404, "COUPON_NOT_FOUND", "Coupon not found"),
    MethodNotAllowed = (405, "METHOD_NOT_ALLOWED", "Method not allowed"),
    ProductUnavailable = (409, "PRODUCT_UNAVAILABLE", "The product is not on sale"),
    CartQuantityLimit = (409, "CART_QUANTITY_LIMIT", "Too many units on one cart line"),
    OutOfStock = (409, "OUT_OF_STOCK", "Out of stock"),
    CouponUnavailable = (409, "COUPON_UNAVAILABLE", "The coupon cannot be used"),
    CouponNotApplicable = (409, "COUPON_NOT_APPLICABLE", "The coupon does not apply to this order"),
    CouponExpired = (409, "COUPON_EXPIRED", "The coupon has expired"),
    CouponAlreadyDownloaded = (409, "COUPON_ALREADY_DOWNLOADED", "The coupon was already downloaded"),
    CouponExhausted = (409, "COUPON_EXHAUSTED", "No coupons are left"),
    InsufficientPoints = (409, "INSUFFICIENT_POINTS", "Not enough points"),
    OrderNotPayable = (409, "ORDER_NOT_PAYABLE", "The order cannot be paid"),
    OrderExpired = (409, "ORDER_EXPIRED", "The order has expired"),
    OrderNotCancelable = (409, "ORDER_NOT_CANCELABLE", "The order cannot be canceled"),
    PaymentInProgress = (409, "PAYMENT_IN_PROGRESS", "A payment of the order is in progress"),
    PaymentNotRequested = (409, "PAYMENT_NOT_REQUESTED", "No payment was requested for the order"),
    PaymentNotReady = (409, "PAYMENT_NOT_READY", "The payment is past READY"),
    CancelRejected = (409, "CANCEL_REJECTED", "The gateway refused the refund"),
    ConcurrentUpdate = (409, "CONCURRENT_UPDATE", "The resource changed meanwhile"),
    IdempotencyInProgress = (409, "IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is in progress"),
    PayloadTooLarge = (413, "PAYLOAD_TOO_LARGE", "The body is too large"),
    UnsupportedMediaType = (415, "UNSUPPORTED_MEDIA_TYPE", "The body must be application/json"),
    IdempotencyKeyReused = (422, "IDEMPOTENCY_KEY_REUSED", "The Idempotency-Key was used for another request"),
    InternalError = (500, "INTERNAL_ERROR", "Internal error"),
    ServiceUnavailable = (503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"),
}

impl Code {
    /// The problem `type`: a URN per code, stable and documented in `docs/API.md`.
    pub fn type_uri(self) -> String {
        format!(
            "urn:problem:commerce:{}",
            self.as_str().to_ascii_lowercase().replace('_', "-")
        )
    }
}

/// The problem document (RFC 9457) every error answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "type": "urn:problem:commerce:out-of-stock",
    "title": "Out of stock",
    "status": 409,
    "detail": "product 3 is out of stock",
    "code": "OUT_OF_STOCK",
    "productId": 3
}))]
pub struct Problem {
    /// A URN naming the problem type, one per `code`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, for people.
    pub detail: String,
    /// The stable code to branch on.
    pub code: String,
    /// `PAYMENT_DECLINED`, `CANCEL_REJECTED`: the gateway's own code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_code: Option<String>,
    /// `OUT_OF_STOCK`: the product that ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<i64>,
    /// `INSUFFICIENT_POINTS`: the balance that is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
    /// `POINTS_EXCEED_PAYABLE`: the most points the order can take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payable: Option<i64>,
    /// `AMOUNT_MISMATCH`: the amount of the requested payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_amount: Option<i64>,
}

/// Typed extra fields of a problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub gateway_code: Option<String>,
    pub product_id: Option<i64>,
    pub balance: Option<i64>,
    pub payable: Option<i64>,
    pub expected_amount: Option<i64>,
}

/// Marks a response whose request may succeed when repeated unchanged (a pending payment, a
/// transient conflict, an outage): the idempotency layer forgets its key instead of replaying it.
#[derive(Debug, Clone, Copy)]
pub struct Retryable;

/// An HTTP failure on its way to becoming a problem document. Boxed inside, so `Result<T,
/// ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Failure>);

#[derive(Debug)]
struct Failure {
    code: Code,
    /// Usually `code.status()`; differs only for [`Code::BadRequest`] standing in for a 4xx
    /// actix produced itself.
    status: StatusCode,
    detail: String,
    extras: Extras,
    retryable: bool,
    /// For 401: what to put in `WWW-Authenticate`.
    challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self(Box::new(Failure {
            code,
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            detail: detail.into(),
            extras: Extras::default(),
            retryable: false,
            challenge: None,
        }))
    }

    /// 400 `VALIDATION_ERROR`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(Code::ValidationError, detail)
    }

    /// 401 with `WWW-Authenticate: Bearer` (and `error="invalid_token"` when a token was sent).
    pub fn unauthorized(detail: impl Into<String>, token_sent: bool) -> Self {
        let mut error = Self::new(Code::Unauthorized, detail);
        error.0.challenge = Some(if token_sent {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        });
        error
    }

    /// An infrastructure failure: 503 if the store is unavailable, else a 500 that says nothing.
    /// Logged here, once, inside the request's span.
    pub fn from_infra(error: &anyhow::Error) -> Self {
        if domain::ports::is_unavailable(error) {
            tracing::warn!(error = format!("{error:#}"), "store unavailable");
            Self::new(
                Code::ServiceUnavailable,
                "the service is temporarily unavailable; try again shortly",
            )
            .retryable()
        } else {
            tracing::error!(error = format!("{error:#}"), "request failed unexpectedly");
            Self::internal()
        }
    }

    /// The generic 500.
    pub fn internal() -> Self {
        Self::new(
            Code::InternalError,
            "an unexpected error occurred; it has been logged",
        )
        .retryable()
    }

    /// The problem for a status actix produced without one.
    pub fn from_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            401 => Code::Unauthorized,
            403 => Code::Forbidden,
            404 => Code::NotFound,
            405 => Code::MethodNotAllowed,
            413 => Code::PayloadTooLarge,
            415 => Code::UnsupportedMediaType,
            503 => Code::ServiceUnavailable,
            s if s >= 500 => Code::InternalError,
            _ => Code::BadRequest,
        };
        let detail = match code {
            Code::NotFound => "no such resource".to_owned(),
            Code::MethodNotAllowed => "the method is not allowed on this resource".to_owned(),
            Code::PayloadTooLarge => format!("the body is larger than {BODY_LIMIT} bytes"),
            Code::BadRequest => status
                .canonical_reason()
                .unwrap_or("bad request")
                .to_lowercase(),
            other => other.title().to_lowercase(),
        };
        let mut error = Self::new(code, detail);
        if code == Code::BadRequest {
            error.0.status = status;
        }
        error
    }

    #[must_use]
    pub fn with(mut self, extras: Extras) -> Self {
        self.0.extras = extras;
        self
    }

    /// See [`Retryable`].
    #[must_use]
    pub fn retryable(mut self) -> Self {
        self.0.retryable = true;
        self
    }

    pub fn code(&self) -> Code {
        self.0.code
    }

    pub fn problem(&self) -> Problem {
        let f = &self.0;
        Problem {
            type_: f.code.type_uri(),
            title: f.code.title().to_owned(),
            status: f.status.as_u16(),
            detail: f.detail.clone(),
            code: f.code.as_str().to_owned(),
            gateway_code: f.extras.gateway_code.clone(),
            product_id: f.extras.product_id,
            balance: f.extras.balance,
            payable: f.extras.payable,
            expected_amount: f.extras.expected_amount,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code.as_str(), self.0.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = HttpResponse::build(self.0.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(challenge) = self.0.challenge {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        let mut response = response.body(body);
        if self.0.retryable {
            response.extensions_mut().insert(Retryable);
        }
        response
    }
}

/// The extractor configs that turn bad input into problems. Registered once on the app.
pub fn extractor_configs() -> (JsonConfig, PathConfig, QueryConfig, PayloadConfig) {
    let json = JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, _req| json_error(&error).into());
    let path = PathConfig::default().error_handler(|error, _req| path_error(&error).into());
    let query = QueryConfig::default().error_handler(|error, _req| query_error(&error).into());
    (json, path, query, PayloadConfig::new(BODY_LIMIT))
}

/// Maps a JSON body failure: syntax → `MALFORMED_JSON`; wrong type, missing or unknown field →
/// `VALIDATION_ERROR` with serde's message (it only describes the client's own input).
pub fn json_error(error: &JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("the body is larger than {BODY_LIMIT} bytes"),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            Code::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(error) => serde_json_error(error),
        JsonPayloadError::Payload(error) => ApiError::new(
            Code::BadRequest,
            format!("the body could not be read: {error}"),
        ),
        _ => ApiError::new(Code::BadRequest, "the body could not be read"),
    }
}

/// Classifies a `serde_json` error on a request body.
pub fn serde_json_error(error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => ApiError::validation(error.to_string()),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::new(Code::MalformedJson, error.to_string())
        }
    }
}

fn path_error(error: &PathError) -> ApiError {
    match error {
        PathError::Deserialize(error) => {
            ApiError::validation(format!("invalid path parameter: {error}"))
        }
        _ => ApiError::validation("invalid path parameter"),
    }
}

fn query_error(error: &QueryPayloadError) -> ApiError {
    match error {
        QueryPayloadError::Deserialize(error) => {
            ApiError::validation(format!("invalid query parameter: {error}"))
        }
        _ => ApiError::validation("invalid query string"),
    }
}

/// Whether a response already carries a problem document.
fn is_problem(response: &HttpResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// Middleware: rewrites any error response that is not problem+json (actix's own 404, 405 with
/// its `Allow` header kept, payload errors) into a problem, keeping its status and headers.
pub async fn normalize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(response.response()) {
        return Ok(response);
    }
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            "a non-problem server error was rewritten"
        );
    }
    let (request, old) = response.into_parts();
    let mut new = ApiError::from_status(status).error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    new.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Ok(ServiceResponse::new(request, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_upper_snake() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code:?} twice");
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
            );
            assert!(StatusCode::from_u16(code.status()).is_ok());
        }
    }

    #[test]
    fn problems_carry_their_code_and_extras() {
        let error = ApiError::new(Code::OutOfStock, "gone").with(Extras {
            product_id: Some(3),
            ..Extras::default()
        });
        let json = serde_json::to_value(error.problem()).unwrap();
        assert_eq!(json["type"], "urn:problem:commerce:out-of-stock");
        assert_eq!(json["status"], 409);
        assert_eq!(json["productId"], 3);
        assert!(json.get("gatewayCode").is_none());
    }

    #[test]
    fn actix_statuses_map_to_codes() {
        assert_eq!(
            ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED).code(),
            Code::MethodNotAllowed
        );
        let uri_too_long = ApiError::from_status(StatusCode::URI_TOO_LONG);
        assert_eq!(uri_too_long.code(), Code::BadRequest);
        assert_eq!(uri_too_long.problem().status, 414);
    }
}
