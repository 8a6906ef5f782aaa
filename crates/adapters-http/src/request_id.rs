//! Request ids and the per-request span. Every response carries `X-Request-Id` (the client's own
//! when it sent a sane one, so ids can follow a call across services; a fresh ULID otherwise),
//! and every log line written while the request runs is inside a span holding the id, the method
//! and the route pattern.

use std::time::Instant;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument as _;

/// The header, in both directions.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The current request's id, in the request extensions for whoever needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// An incoming id is kept if it is 1 to 128 characters of `[A-Za-z0-9._:-]`: anything else
/// could forge log lines or bloat them.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Middleware: assigns the id, opens the span, logs one line per finished request.
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| ulid::Ulid::generate().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "http.request",
        request_id = %id,
        method = %req.method(),
        route = %route,
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "request finished"
        );
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(acceptable("abc-123_X.y:z"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
