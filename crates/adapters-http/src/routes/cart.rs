//! The buyer's cart.

use actix_web::{HttpResponse, web};
use domain::model::{CartItemId, Quantity};

use crate::auth::AuthUser;
use crate::dto::cart::{
    AddCartItem, AddCartItemRequest, CartBody, CartItemView, UpdateCartItemRequest,
};
use crate::dto::id;
use crate::idempotency::IdempotencyKeyHeader;
use crate::problem::{ApiError, Problem};
use crate::state::HttpState;

/// The cart, priced now.
#[utoipa::path(get, path = "/v1/cart", operation_id = "getCart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's cart", body = CartBody),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn view(state: web::Data<HttpState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let cart = state.services.carts.view(user.id).await?;
    Ok(HttpResponse::Ok().json(CartBody::from(cart)))
}

/// Adds units of a product (an existing line grows).
#[utoipa::path(post, path = "/v1/cart/items", operation_id = "addCartItem", tag = "cart", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = AddCartItemRequest,
    responses(
        (status = 201, description = "The line after the addition", body = CartItemView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "PRODUCT_UNAVAILABLE, CART_QUANTITY_LIMIT, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<AddCartItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let add = AddCartItem::try_from(body.into_inner())?;
    let item = state
        .services
        .carts
        .add(user.id, add.product_id, add.quantity)
        .await?;
    Ok(HttpResponse::Created().json(CartItemView::from(item)))
}

/// Sets a line's quantity.
#[utoipa::path(patch, path = "/v1/cart/items/{id}", operation_id = "updateCartItem", tag = "cart", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Cart item id"), IdempotencyKeyHeader),
    request_body = UpdateCartItemRequest,
    responses(
        (status = 200, description = "The line", body = CartItemView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "CART_ITEM_NOT_FOUND (also another user's line)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<i64>,
    body: web::Json<UpdateCartItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let item_id = CartItemId::new(id("id", path.into_inner())?);
    let quantity = Quantity::try_from(body.into_inner())?;
    let item = state
        .services
        .carts
        .set_quantity(user.id, item_id, quantity)
        .await?;
    Ok(HttpResponse::Ok().json(CartItemView::from(item)))
}

/// Removes a line.
#[utoipa::path(delete, path = "/v1/cart/items/{id}", operation_id = "removeCartItem", tag = "cart", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Cart item id"), IdempotencyKeyHeader),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "CART_ITEM_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let item_id = CartItemId::new(id("id", path.into_inner())?);
    state.services.carts.remove(user.id, item_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
