//! The seed's five order endpoints, and cancel.

use actix_web::{HttpResponse, web};
use domain::model::CartItemId;
use domain::usecases::CancelOutcomeView;

use crate::auth::AuthUser;
use crate::dto::order_key;
use crate::dto::orders::{
    CancelOrderRequest, CancelPending, CheckoutView, ListOrders, ListOrdersQuery, OrderCreated,
    OrderDetailView, OrderPage, PlaceCartOrderRequest, PlaceOrder, PlaceOrderRequest,
};
use crate::idempotency::IdempotencyKeyHeader;
use crate::problem::{ApiError, Problem, serde_json_error};
use crate::state::HttpState;

/// 상품 주문: one product, as a CREATED order (stock is taken when it is paid).
#[utoipa::path(post, path = "/v1/orders", operation_id = "placeOrder", tag = "orders", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = PlaceOrderRequest,
    responses(
        (status = 201, description = "Placed", body = OrderCreated),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON, INVALID_IDEMPOTENCY_KEY", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "PRODUCT_UNAVAILABLE, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn place(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<PlaceOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = PlaceOrder::try_from(body.into_inner())?;
    let key = state
        .services
        .ordering
        .place_order(user.id, order.product_id, order.quantity)
        .await?;
    state.metrics.order_placed();
    Ok(HttpResponse::Created().json(OrderCreated {
        order_key: key.to_string(),
    }))
}

/// 장바구니 주문: the listed lines of the caller's cart, as one CREATED order.
#[utoipa::path(post, path = "/v1/cart-orders", operation_id = "placeCartOrder", tag = "orders", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = PlaceCartOrderRequest,
    responses(
        (status = 201, description = "Placed", body = OrderCreated),
        (status = 400, description = "VALIDATION_ERROR (none or more than 100 ids), MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "CART_ITEM_NOT_FOUND (also another user's line), PRODUCT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "PRODUCT_UNAVAILABLE, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn place_from_cart(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<PlaceCartOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let ids = Vec::<CartItemId>::try_from(body.into_inner())?;
    let key = state
        .services
        .ordering
        .place_cart_order(user.id, ids)
        .await?;
    state.metrics.order_placed();
    Ok(HttpResponse::Created().json(OrderCreated {
        order_key: key.to_string(),
    }))
}

/// 결제 전 주문 화면: a CREATED order with the coupons usable on it, the point balance and the fee.
#[utoipa::path(get, path = "/v1/orders/{orderKey}/checkout", operation_id = "getCheckout", tag = "orders", security(("bearer" = [])),
    params(("orderKey" = String, Path, description = "The order key")),
    responses(
        (status = 200, description = "The checkout page", body = CheckoutView),
        (status = 400, description = "Bad order key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND (also another user's order)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_PAYABLE, ORDER_EXPIRED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn checkout(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = order_key("orderKey", &path.into_inner())?;
    let checkout = state.services.ordering.checkout(user.id, key).await?;
    Ok(HttpResponse::Ok().json(CheckoutView::from(checkout)))
}

/// 주문 목록: the caller's orders, newest first; PAID ones unless `status` says otherwise.
#[utoipa::path(get, path = "/v1/orders", operation_id = "listOrders", tag = "orders", security(("bearer" = [])),
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "One page of orders", body = OrderPage),
        (status = 400, description = "Bad status, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    state: web::Data<HttpState>,
    user: AuthUser,
    query: web::Query<ListOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = ListOrders::try_from(query.into_inner())?;
    let page = state
        .services
        .ordering
        .list(user.id, query.status, query.after, query.limit)
        .await?;
    Ok(HttpResponse::Ok().json(OrderPage::from(page)))
}

/// 주문 상세: any status, with the payment summary and the address.
#[utoipa::path(get, path = "/v1/orders/{orderKey}", operation_id = "getOrder", tag = "orders", security(("bearer" = [])),
    params(("orderKey" = String, Path, description = "The order key")),
    responses(
        (status = 200, description = "The order", body = OrderDetailView),
        (status = 400, description = "Bad order key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND (also another user's order)", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detail(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = order_key("orderKey", &path.into_inner())?;
    let detail = state.services.ordering.detail(user.id, key).await?;
    Ok(HttpResponse::Ok().json(OrderDetailView::from(detail)))
}

/// Cancels an order: a CREATED one at once; a PAID one is refunded at the gateway first.
#[utoipa::path(post, path = "/v1/orders/{orderKey}/cancel", operation_id = "cancelOrder", tag = "orders", security(("bearer" = [])),
    params(("orderKey" = String, Path, description = "The order key"), IdempotencyKeyHeader),
    request_body(content = Option<CancelOrderRequest>, description = "Optional", content_type = "application/json"),
    responses(
        (status = 200, description = "Canceled", body = OrderDetailView),
        (status = 202, description = "The gateway's refund is not confirmed yet; poll the order", body = CancelPending),
        (status = 400, description = "Bad order key or body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_CANCELABLE, PAYMENT_IN_PROGRESS, CANCEL_REJECTED, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    state: web::Data<HttpState>,
    user: AuthUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = order_key("orderKey", &path.into_inner())?;
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        CancelOrderRequest::default()
    } else {
        serde_json::from_slice::<CancelOrderRequest>(&body).map_err(|e| serde_json_error(&e))?
    };
    let reason = request.reason()?;
    match state
        .services
        .payments
        .cancel(user.id, key, &reason)
        .await?
    {
        CancelOutcomeView::Canceled(detail) => {
            state.metrics.order_canceled();
            Ok(HttpResponse::Ok().json(OrderDetailView::from(*detail)))
        }
        CancelOutcomeView::Pending => Ok(pending(HttpResponse::Accepted().json(CancelPending {
            status: "CANCEL_PENDING".to_owned(),
            order_key: key.to_string(),
        }))),
    }
}

/// A `202`: not finished, so the idempotency layer lets a retry run again.
pub(crate) fn pending(mut response: HttpResponse) -> HttpResponse {
    response.extensions_mut().insert(crate::problem::Retryable);
    response
}
