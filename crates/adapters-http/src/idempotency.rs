//! `Idempotency-Key` for the mutating `/v1` endpoints (POST, PATCH, DELETE).
//!
//! A middleware on the `/v1` scope, so handlers stay unaware of it:
//!
//! 1. No header: the request runs as usual. A header that is not 1–255 visible ASCII
//!    characters: 400 `INVALID_IDEMPOTENCY_KEY`.
//! 2. Keys are per user, so the bearer token is verified here too; without a valid one the
//!    request runs on and the handler answers 401 (nothing is recorded).
//! 3. The fingerprint is SHA-256 over method, path with query, and the body's exact bytes.
//! 4. The key is claimed through [`IdempotencyStore::claim`](domain::ports::IdempotencyStore::claim): a completed request with the same
//!    fingerprint is replayed (status, content type and body, with `Idempotent-Replayed: true`);
//!    another fingerprint is 422 `IDEMPOTENCY_KEY_REUSED`; one still running is 409
//!    `IDEMPOTENCY_IN_PROGRESS`. A claim left unfinished for [`ABANDONED_AFTER`] (its server died)
//!    is taken over; records older than [`KEPT_FOR`] count as absent.
//! 5. The answer is stored with [`IdempotencyStore::complete`](domain::ports::IdempotencyStore::complete), unless it is worth retrying:
//!    a 5xx, or a response marked [`Retryable`] (a payment still pending at the gateway, a
//!    transient conflict). Those [`IdempotencyStore::release`](domain::ports::IdempotencyStore::release) the key, so the same request can
//!    run again.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage as _, HttpResponse, ResponseError};
use domain::model::UserId;
use domain::ports::{IdempotencyClaim, IdempotencyKey, StoredResponse};
use futures::StreamExt as _;
use sha2::{Digest, Sha256};
use time::Duration;

use crate::auth;
use crate::problem::{ApiError, BODY_LIMIT, Code, Retryable};
use crate::state::HttpState;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on replayed responses.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a key's answer is kept: the domain's rule, which the purge job also follows.
pub use domain::usecases::IDEMPOTENCY_TTL as KEPT_FOR;
/// How long an unfinished claim blocks its key before another attempt may take it over. Longer
/// than any request should take (the gateway call has its own, shorter timeout).
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);

/// The `Idempotency-Key` request header, for the OpenAPI document.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1 to 255 visible ASCII characters (a UUID is a good choice), one per intended operation.
    /// A retry with the same key and body replays the first answer (`Idempotent-Replayed: true`);
    /// the same key with another body is 422; kept 24 hours, per user.
    #[serde(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

fn applies_to(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PATCH | Method::DELETE)
}

/// SHA-256 of method, path and query, and body.
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(path_and_query.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hex::encode(hash.finalize())
}

/// Reads the whole body, refusing more than [`BODY_LIMIT`] bytes.
async fn read_body(payload: &mut Payload) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(Code::BadRequest, format!("the body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!("the body is larger than {BODY_LIMIT} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn refuse(req: ServiceRequest, error: &ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(error.error_response())
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let Ok(status) = StatusCode::from_u16(stored.status) else {
        tracing::error!(
            status = stored.status,
            "a stored idempotent response has a bad status"
        );
        return ApiError::internal().error_response();
    };
    let mut response = HttpResponse::build(status);
    if let Ok(content_type) = HeaderValue::from_str(&stored.content_type) {
        response.insert_header((CONTENT_TYPE, content_type));
    }
    response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    response.body(stored.body)
}

/// The middleware (see the module docs).
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !applies_to(req.method()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(raw_key) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(key) = raw_key
        .to_str()
        .ok()
        .and_then(|k| IdempotencyKey::new(k).ok())
    else {
        let error = ApiError::new(
            Code::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        );
        return Ok(refuse(req, &error));
    };
    let Some(state) = req.app_data::<web::Data<HttpState>>().cloned() else {
        tracing::error!("HttpState is not registered on the app");
        return Ok(refuse(req, &ApiError::internal()));
    };
    let Ok(principal) = auth::authenticate(req.headers(), &state.jwt) else {
        // The handler's extractor answers 401; nothing to record.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let user = principal.user;

    let body = match read_body(&mut req.take_payload()).await {
        Ok(body) => body,
        Err(error) => return Ok(refuse(req, &error)),
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), ToString::to_string);
    let fingerprint = fingerprint(req.method(), &path, &body);
    req.set_payload(Payload::from(body));

    let now = state.clock.now();
    let claim = state
        .idempotency
        .claim(
            user,
            key.clone(),
            fingerprint,
            now,
            now - KEPT_FOR,
            now - ABANDONED_AFTER,
        )
        .await;
    match claim {
        Ok(IdempotencyClaim::Acquired) => {}
        Ok(IdempotencyClaim::Replay(stored)) => return Ok(req.into_response(replay(stored))),
        Ok(IdempotencyClaim::InProgress) => {
            let error = ApiError::new(
                Code::IdempotencyInProgress,
                "a request with this Idempotency-Key is still running; retry later",
            );
            return Ok(refuse(req, &error));
        }
        Ok(IdempotencyClaim::KeyReused) => {
            let error = ApiError::new(
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used with another request; use a new key",
            );
            return Ok(refuse(req, &error));
        }
        Err(error) => return Ok(refuse(req, &ApiError::from_infra(&error))),
    }

    let response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            release(&state, user, key).await;
            return Err(error);
        }
    };
    let retry_worth = response.status().is_server_error()
        || response.response().extensions().contains::<Retryable>();
    if retry_worth {
        release(&state, user, key).await;
        return Ok(response);
    }

    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(error = %error, "the response body could not be buffered");
            release(&state, user, key).await;
            return Ok(ServiceResponse::new(
                request,
                ApiError::internal().error_response(),
            ));
        }
    };
    let content_type = head
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let stored = StoredResponse {
        status: head.status().as_u16(),
        content_type,
        body: bytes.to_vec(),
    };
    if let Err(error) = state.idempotency.complete(user, key, stored).await {
        // The answer stands; the key stays claimed until it counts as abandoned, then a retry
        // runs again (every mutating use case is safe to repeat).
        tracing::warn!(
            error = format!("{error:#}"),
            "storing an idempotent response failed"
        );
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(bytes)),
    ))
}

/// How often, and for how long, a failed release is retried in the background: until shortly
/// before the claim would count as abandoned anyway.
const RELEASE_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
const RELEASE_RETRIES: u32 = 100;

/// Forgets the claim so the client's retry can run. The usual reason to release is a failed
/// request, often because the database is down — which also fails the release. Then the release
/// is retried in the background, so the key is usable again as soon as the database is back
/// rather than only after [`ABANDONED_AFTER`].
async fn release(state: &HttpState, user: UserId, key: IdempotencyKey) {
    let Err(error) = state.idempotency.release(user, key.clone()).await else {
        return;
    };
    tracing::warn!(
        error = format!("{error:#}"),
        "releasing an idempotency key failed; retrying in the background"
    );
    let store = state.idempotency.clone();
    actix_web::rt::spawn(async move {
        for _ in 0..RELEASE_RETRIES {
            actix_web::rt::time::sleep(RELEASE_RETRY_EVERY).await;
            if store.release(user, key.clone()).await.is_ok() {
                return;
            }
        }
        tracing::warn!("gave up releasing an idempotency key; it is taken over once abandoned");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_cover_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/v1/orders", b"{}");
        assert_eq!(a.len(), 64);
        assert_eq!(a, fingerprint(&Method::POST, "/v1/orders", b"{}"));
        assert_ne!(a, fingerprint(&Method::PATCH, "/v1/orders", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/orders?x=1", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/v1/orders", b"{ }"));
    }
}
