//! Bearer JWT authentication: HS256 tokens whose `sub` is the user id and whose `exp` is
//! required; `"role": "admin"` opens `/admin/v1`. Verification is the `jsonwebtoken` crate's,
//! never hand-rolled. Handlers ask for an [`AuthUser`] or an [`AdminUser`] argument, so a route
//! cannot forget to authenticate.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};
use domain::model::UserId;
use futures::future::{Ready, ready};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::problem::{ApiError, Code};
use crate::state::HttpState;

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECS: u64 = 30;
const ADMIN_ROLE: &str = "admin";

/// The signing secret, as keys ready to sign and verify. Cheap to clone; never printed.
#[derive(Clone)]
pub struct JwtKeys {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

/// Why a token could not be issued or was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid")]
    Invalid,
    #[error("the token's subject is not a user id")]
    Subject,
    #[error("the token could not be signed: {0}")]
    Sign(String),
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub admin: bool,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
}

/// `sub` may be a JSON string of digits (the JWT convention) or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Number(i64),
    Text(String),
}

#[derive(Deserialize)]
struct ReceivedClaims {
    sub: Subject,
    #[serde(default)]
    role: Option<String>,
}

impl JwtKeys {
    /// Keys for an HS256 shared secret. The app decides how long the secret must be.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        Self {
            inner: Arc::new(Keys {
                encoding: EncodingKey::from_secret(secret),
                decoding: DecodingKey::from_secret(secret),
                validation,
            }),
        }
    }

    /// A token for `user`, valid for `ttl`, with `"role": "admin"` when `admin`.
    pub fn issue_token(
        &self,
        user: UserId,
        admin: bool,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let now = OffsetDateTime::now_utc();
        let claims = IssuedClaims {
            sub: user.to_string(),
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
            role: admin.then_some(ADMIN_ROLE),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
        .map_err(|e| TokenError::Sign(e.to_string()))
    }

    /// Checks the signature, algorithm and expiry, and reads the subject and role.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let data = jsonwebtoken::decode::<ReceivedClaims>(
            token,
            &self.inner.decoding,
            &self.inner.validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let id = match data.claims.sub {
            Subject::Number(n) => n,
            Subject::Text(text) => text.parse().map_err(|_| TokenError::Subject)?,
        };
        if id <= 0 {
            return Err(TokenError::Subject);
        }
        Ok(Principal {
            user: UserId::new(id),
            admin: data.claims.role.as_deref() == Some(ADMIN_ROLE),
        })
    }
}

/// The principal of the `Authorization: Bearer` header, or the 401 to answer.
pub fn authenticate(headers: &HeaderMap, keys: &JwtKeys) -> Result<Principal, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "send Authorization: Bearer <token>",
            false,
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return Err(ApiError::unauthorized(
            "the Authorization header must be: Bearer <token>",
            false,
        ));
    };
    keys.verify(token)
        .map_err(|e| ApiError::unauthorized(e.to_string(), true))
}

fn keys(req: &HttpRequest) -> Result<JwtKeys, ApiError> {
    req.app_data::<web::Data<HttpState>>()
        .map(|state| state.jwt.clone())
        .ok_or_else(|| {
            tracing::error!("HttpState is not registered on the app");
            ApiError::internal()
        })
}

/// Any authenticated user (buyers and admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            keys(req).and_then(|keys| {
                authenticate(req.headers(), &keys).map(|p| AuthUser { id: p.user })
            }),
        )
    }
}

/// A user whose token has `"role": "admin"`; anyone else authenticated gets 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminUser {
    pub id: UserId,
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            keys(req)
                .and_then(|keys| authenticate(req.headers(), &keys))
                .and_then(|p| {
                    if p.admin {
                        Ok(AdminUser { id: p.user })
                    } else {
                        Err(ApiError::new(
                            Code::Forbidden,
                            "this endpoint needs an admin token",
                        ))
                    }
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys
            .issue_token(UserId::new(42), true, Duration::minutes(5))
            .unwrap();
        assert_eq!(
            keys.verify(&token).unwrap(),
            Principal {
                user: UserId::new(42),
                admin: true
            }
        );
        let other = JwtKeys::new(b"another secret, another signature");
        assert!(matches!(other.verify(&token), Err(TokenError::Invalid)));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys
            .issue_token(UserId::new(1), false, Duration::minutes(-10))
            .unwrap();
        assert!(matches!(keys.verify(&token), Err(TokenError::Expired)));
    }
}
