//! Cursor pagination: `?cursor=&limit=`, `nextCursor` in the response (`null` on the last page).
//! Cursors are opaque to clients; here they are the last item's id (products, ledger entries) or
//! order key (orders), and anything else is a 400.

use domain::model::PageLimit;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{id, order_key};
use crate::problem::ApiError;
use domain::model::OrderKey;

/// `?cursor=&limit=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `nextCursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

pub(crate) fn limit(limit: Option<i64>) -> Result<PageLimit, ApiError> {
    limit.map_or(Ok(PageLimit::DEFAULT), |n| {
        PageLimit::new(n).map_err(|e| ApiError::validation(format!("limit: {e}")))
    })
}

/// A cursor that is an id.
pub(crate) fn id_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| {
            c.parse::<i64>()
                .ok()
                .and_then(|n| id("cursor", n).ok())
                .ok_or_else(|| ApiError::validation("cursor: not a cursor this API issued"))
        })
        .transpose()
}

/// A cursor that is an order key.
pub(crate) fn key_cursor(cursor: Option<&str>) -> Result<Option<OrderKey>, ApiError> {
    cursor
        .map(|c| {
            order_key("cursor", c)
                .map_err(|_| ApiError::validation("cursor: not a cursor this API issued"))
        })
        .transpose()
}
