//! Coupons for buyers: what can be downloaded, downloading, and what they own.

use actix_web::{HttpResponse, web};
use domain::model::CouponId;

use crate::auth::AuthUser;
use crate::dto::coupons::{CouponList, OwnedCouponList, OwnedCouponView};
use crate::dto::id;
use crate::idempotency::IdempotencyKeyHeader;
use crate::problem::{ApiError, Problem};
use crate::state::HttpState;

/// Coupons the caller can download now.
#[utoipa::path(get, path = "/v1/coupons", operation_id = "listDownloadableCoupons", tag = "coupons", security(("bearer" = [])),
    responses(
        (status = 200, description = "Valid, not exhausted coupons the caller has not downloaded yet, newest first", body = CouponList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn downloadable(
    state: web::Data<HttpState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let coupons = state.services.coupons.downloadable(user.id).await?;
    Ok(HttpResponse::Ok().json(CouponList {
        items: coupons.into_iter().map(Into::into).collect(),
    }))
}

/// Downloads a coupon: at most once per user, never past its issue limit.
#[utoipa::path(post, path = "/v1/coupons/{id}/download", operation_id = "downloadCoupon", tag = "coupons", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Coupon id"), IdempotencyKeyHeader),
    responses(
        (status = 201, description = "The owned coupon", body = OwnedCouponView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "COUPON_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "COUPON_EXPIRED, COUPON_ALREADY_DOWNLOADED, COUPON_EXHAUSTED, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let coupon = CouponId::new(id("id", path.into_inner())?);
    let owned = state.services.coupons.download(user.id, coupon).await?;
    Ok(HttpResponse::Created().json(OwnedCouponView::from(owned)))
}

/// The caller's coupons, used or not.
#[utoipa::path(get, path = "/v1/owned-coupons", operation_id = "listOwnedCoupons", tag = "coupons", security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = OwnedCouponList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn owned(state: web::Data<HttpState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let owned = state.services.coupons.owned(user.id).await?;
    Ok(HttpResponse::Ok().json(OwnedCouponList {
        items: owned.into_iter().map(Into::into).collect(),
    }))
}
