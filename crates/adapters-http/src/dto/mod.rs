//! Request and response bodies: camelCase JSON, money as integer won, timestamps as RFC 3339
//! strings, order keys as strings (the numeric order id never leaves the server).
//!
//! Request bodies deny unknown fields (a misspelt optional field would otherwise be silently
//! ignored) and are converted into domain values before any use case runs, so a use case never
//! sees invalid input; each conversion failure is a 400 `VALIDATION_ERROR` naming the field.

pub mod cart;
pub mod coupons;
pub mod enums;
pub mod orders;
pub mod pagination;
pub mod payments;
pub mod points;
pub mod products;

use domain::model::{Money, OrderKey, Quantity};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::problem::ApiError;

/// RFC 3339 in UTC, the only timestamp format the API answers with.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

pub(crate) fn rfc3339_opt(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(rfc3339)
}

pub(crate) fn parse_rfc3339(field: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        ApiError::validation(format!(
            "{field}: not an RFC 3339 timestamp (e.g. 2030-01-31T23:59:59+09:00)"
        ))
    })
}

pub(crate) fn money(field: &str, won: i64) -> Result<Money, ApiError> {
    Money::new(won).map_err(|e| ApiError::validation(format!("{field}: {e}")))
}

pub(crate) fn quantity(field: &str, units: i64) -> Result<Quantity, ApiError> {
    Quantity::new(units).map_err(|e| ApiError::validation(format!("{field}: {e}")))
}

/// Ids are positive; zero or a negative number is a client bug, not a missing resource.
pub(crate) fn id(field: &str, value: i64) -> Result<i64, ApiError> {
    if value > 0 {
        Ok(value)
    } else {
        Err(ApiError::validation(format!(
            "{field}: must be a positive id (got {value})"
        )))
    }
}

pub(crate) fn order_key(field: &str, text: &str) -> Result<OrderKey, ApiError> {
    OrderKey::parse(text)
        .map_err(|_| ApiError::validation(format!("{field}: not a valid order key")))
}

/// Checks a free-text field's length after trimming, and that it holds no control character.
pub(crate) fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty()
        || value.chars().count() > max_chars
        || domain::model::has_control_chars(value)
    {
        Err(ApiError::validation(format!(
            "{field}: must be 1 to {max_chars} characters, without control characters"
        )))
    } else {
        Ok(value.to_owned())
    }
}
