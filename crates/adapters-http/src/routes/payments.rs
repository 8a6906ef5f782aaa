//! Payments: request, confirm, and the gateway's failure redirect.

use actix_web::{HttpResponse, web};
use domain::usecases::{ConfirmOutcome, ConfirmPaymentError, RequestPayment};

use crate::auth::AuthUser;
use crate::dto::orders::OrderDetailView;
use crate::dto::payments::{
    ConfirmPayment, ConfirmPaymentRequest, ConfirmPending, PaymentFail, PaymentFailRequest,
    PaymentFailureView, PaymentView, RequestPaymentRequest,
};
use crate::idempotency::IdempotencyKeyHeader;
use crate::problem::{ApiError, Problem};
use crate::routes::orders::pending;
use crate::state::HttpState;

/// Step 1: prices the order with the coupon, points and shipping, and stores a READY payment
/// (replacing an earlier READY one). Nothing is reserved yet.
#[utoipa::path(post, path = "/v1/payments", operation_id = "requestPayment", tag = "payments", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = RequestPaymentRequest,
    responses(
        (status = 201, description = "The READY payment: charge `amount` at the gateway with orderId = orderKey", body = PaymentView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON, POINTS_EXCEED_PAYABLE", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND, COUPON_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "ORDER_NOT_PAYABLE, ORDER_EXPIRED, COUPON_UNAVAILABLE, COUPON_NOT_APPLICABLE, INSUFFICIENT_POINTS, PAYMENT_IN_PROGRESS, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn request(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<RequestPaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = RequestPayment::try_from(body.into_inner())?;
    let order_key = request.order_key;
    let payment = state.services.payments.request(user.id, request).await?;
    Ok(HttpResponse::Created().json(PaymentView::new(&payment, order_key)))
}

/// Step 3: reserves stock, coupon and points, asks the gateway, and records its answer.
/// Repeating it answers the same outcome and never charges twice.
#[utoipa::path(post, path = "/v1/payments/confirm", operation_id = "confirmPayment", tag = "payments", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = ConfirmPaymentRequest,
    responses(
        (status = 200, description = "Approved: the order is PAID", body = OrderDetailView),
        (status = 202, description = "The gateway's answer is not known yet; poll the order", body = ConfirmPending),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON, AMOUNT_MISMATCH", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "PAYMENT_DECLINED: the gateway's message in `detail`, its code in `gatewayCode`; the order stays payable", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "OUT_OF_STOCK, COUPON_UNAVAILABLE, INSUFFICIENT_POINTS, ORDER_NOT_PAYABLE, ORDER_EXPIRED, PAYMENT_IN_PROGRESS, PAYMENT_NOT_REQUESTED, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<ConfirmPaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let confirm = ConfirmPayment::try_from(body.into_inner())?;
    let outcome = state
        .services
        .payments
        .confirm(
            user.id,
            confirm.order_key,
            confirm.payment_key,
            confirm.amount,
        )
        .await;
    match outcome {
        Ok(ConfirmOutcome::Paid(detail)) => {
            state.metrics.order_paid();
            Ok(HttpResponse::Ok().json(OrderDetailView::from(*detail)))
        }
        Ok(ConfirmOutcome::Pending) => Ok(pending(HttpResponse::Accepted().json(ConfirmPending {
            status: "CONFIRMING".to_owned(),
            order_key: confirm.order_key.to_string(),
        }))),
        Err(error) => {
            if matches!(error, ConfirmPaymentError::Declined(_)) {
                state.metrics.payment_declined();
            }
            Err(error.into())
        }
    }
}

/// Step 3, failure side: records the failure the gateway's redirect brought back
/// (the READY payment becomes FAILED; recording it twice is harmless).
#[utoipa::path(post, path = "/v1/payments/fail", operation_id = "recordPaymentFailure", tag = "payments", security(("bearer" = [])),
    params(IdempotencyKeyHeader), request_body = PaymentFailRequest,
    responses(
        (status = 200, description = "Recorded", body = PaymentFailureView),
        (status = 400, description = "VALIDATION_ERROR, MALFORMED_JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "ORDER_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "PAYMENT_NOT_READY, PAYMENT_NOT_REQUESTED, IDEMPOTENCY_IN_PROGRESS", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn fail(
    state: web::Data<HttpState>,
    user: AuthUser,
    body: web::Json<PaymentFailRequest>,
) -> Result<HttpResponse, ApiError> {
    let fail = PaymentFail::try_from(body.into_inner())?;
    let payment = state
        .services
        .payments
        .record_failure(user.id, fail.order_key, fail.failure)
        .await?;
    Ok(HttpResponse::Ok().json(PaymentFailureView::new(payment, fail.order_key)))
}
