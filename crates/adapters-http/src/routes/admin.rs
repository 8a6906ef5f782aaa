//! `/admin/v1`: products, coupons and point grants. Every handler takes an [`AdminUser`].

use actix_web::{HttpResponse, web};
use domain::model::{NewProduct, ProductId, ProductPatch, UserId};

use crate::auth::AdminUser;
use crate::dto::coupons::{CouponDraft, CouponView, CreateCouponRequest};
use crate::dto::id;
use crate::dto::points::{BalanceView, GrantPointsRequest};
use crate::dto::products::{CreateProductRequest, ProductView, UpdateProductRequest};
use crate::problem::{ApiError, Problem};
use crate::state::HttpState;

/// Creates an ACTIVE product.
#[utoipa::path(post, path = "/admin/v1/products", operation_id = "createProduct", tag = "admin", security(("bearer" = [])),
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_product(
    state: web::Data<HttpState>,
    _admin: AdminUser,
    body: web::Json<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let product = NewProduct::try_from(body.into_inner())?;
    let product = state.services.admin.create_product(product).await?;
    Ok(HttpResponse::Created().json(ProductView::from(product)))
}

/// Changes price, selling price, stock or status.
#[utoipa::path(patch, path = "/admin/v1/products/{id}", operation_id = "updateProduct", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Product id")),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, description = "The product after the change", body = ProductView),
        (status = 400, description = "VALIDATION_ERROR (also a change that would put sellingPrice above price)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "CONCURRENT_UPDATE", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_product(
    state: web::Data<HttpState>,
    _admin: AdminUser,
    product_id: web::Path<i64>,
    body: web::Json<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let product_id = ProductId::new(id("id", product_id.into_inner())?);
    let changes = ProductPatch::try_from(body.into_inner())?;
    let product = state
        .services
        .admin
        .update_product(product_id, changes)
        .await?;
    Ok(HttpResponse::Ok().json(ProductView::from(product)))
}

/// Creates a coupon.
#[utoipa::path(post, path = "/admin/v1/coupons", operation_id = "createCoupon", tag = "admin", security(("bearer" = [])),
    request_body = CreateCouponRequest,
    responses(
        (status = 201, description = "Created", body = CouponView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND (a target product)", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_coupon(
    state: web::Data<HttpState>,
    _admin: AdminUser,
    body: web::Json<CreateCouponRequest>,
) -> Result<HttpResponse, ApiError> {
    let draft = CouponDraft::try_from(body.into_inner())?;
    let coupon = state
        .services
        .admin
        .create_coupon(
            &draft.name,
            draft.kind,
            draft.min_order_amount,
            draft.valid_until,
            draft.product_ids,
            draft.issue_limit,
        )
        .await?;
    Ok(HttpResponse::Created().json(CouponView::from(coupon)))
}

/// Grants points to a user.
#[utoipa::path(post, path = "/admin/v1/users/{userId}/points", operation_id = "grantPoints", tag = "admin", security(("bearer" = [])),
    params(("userId" = i64, Path, description = "The user to credit")),
    request_body = GrantPointsRequest,
    responses(
        (status = 201, description = "The user's new balance", body = BalanceView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant_points(
    state: web::Data<HttpState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<GrantPointsRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::new(id("userId", path.into_inner())?);
    let grant = body.into_inner().into_grant(user)?;
    let balance = state
        .services
        .admin
        .grant_points(grant.user, grant.amount, &grant.reason)
        .await?;
    Ok(HttpResponse::Created().json(BalanceView {
        balance: balance.won(),
    }))
}
