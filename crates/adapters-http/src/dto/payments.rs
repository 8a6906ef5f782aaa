//! Payments, following the Toss Payments widget flow.

use domain::model::{
    Money, OrderKey, OwnedCouponId, Payment, PaymentFailure, PaymentKey, ShippingAddress,
};
use domain::usecases::RequestPayment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::PaymentStatusDto;
use super::{id, money, order_key, text};
use crate::problem::ApiError;

/// Where to ship.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingAddressRequest {
    #[schema(example = "홍길동")]
    pub recipient: String,
    /// 9 to 20 digits, optionally separated by '-'.
    #[schema(example = "010-1234-5678")]
    pub phone: String,
    /// 5 digits.
    #[schema(example = "06236")]
    pub zip_code: String,
    #[schema(example = "서울 강남구 테헤란로 1")]
    pub address1: String,
    pub address2: Option<String>,
}

impl TryFrom<ShippingAddressRequest> for ShippingAddress {
    type Error = ApiError;

    fn try_from(body: ShippingAddressRequest) -> Result<Self, ApiError> {
        ShippingAddress::new(
            &body.recipient,
            &body.phone,
            &body.zip_code,
            &body.address1,
            body.address2.as_deref(),
        )
        .map_err(|e| ApiError::validation(format!("shippingAddress: {e}")))
    }
}

/// `POST /v1/payments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestPaymentRequest {
    pub order_key: String,
    /// One of the buyer's coupons (see `usableCoupons` of the checkout page).
    pub owned_coupon_id: Option<i64>,
    /// Points to spend, 1 point = 1 won (default 0).
    pub use_point: Option<i64>,
    pub shipping_address: ShippingAddressRequest,
}

impl TryFrom<RequestPaymentRequest> for RequestPayment {
    type Error = ApiError;

    fn try_from(body: RequestPaymentRequest) -> Result<Self, ApiError> {
        Ok(RequestPayment {
            order_key: order_key("orderKey", &body.order_key)?,
            owned_coupon_id: body
                .owned_coupon_id
                .map(|n| id("ownedCouponId", n).map(OwnedCouponId::new))
                .transpose()?,
            use_point: body
                .use_point
                .map_or(Ok(Money::ZERO), |won| money("usePoint", won))?,
            shipping_address: body.shipping_address.try_into()?,
        })
    }
}

/// `201` of `POST /v1/payments`: what to charge at the gateway.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub payment_id: i64,
    pub order_key: String,
    pub status: PaymentStatusDto,
    /// The amount to charge at the gateway, won.
    pub amount: i64,
    pub items_total: i64,
    pub coupon_discount: i64,
    pub used_point: i64,
    pub shipping_fee: i64,
}

impl PaymentView {
    pub fn new(payment: &Payment, order_key: OrderKey) -> Self {
        Self {
            payment_id: payment.id.value(),
            order_key: order_key.to_string(),
            status: payment.status.into(),
            amount: payment.amount.won(),
            items_total: payment.origin_amount.won(),
            coupon_discount: payment.coupon_discount.won(),
            used_point: payment.used_point.won(),
            shipping_fee: payment.shipping_fee.won(),
        }
    }
}

/// `POST /v1/payments/confirm`: what the gateway's success redirect brought back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmPaymentRequest {
    pub order_key: String,
    /// The gateway's payment key. With the simulated gateway: `decline-…` is declined,
    /// `timeout-…` and `error-…` stay pending, anything else is approved.
    #[schema(example = "tgen_20260101")]
    pub payment_key: String,
    /// Must equal the requested payment's `amount`.
    pub amount: i64,
}

/// A validated confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmPayment {
    pub order_key: OrderKey,
    pub payment_key: PaymentKey,
    pub amount: Money,
}

impl TryFrom<ConfirmPaymentRequest> for ConfirmPayment {
    type Error = ApiError;

    fn try_from(body: ConfirmPaymentRequest) -> Result<Self, ApiError> {
        Ok(Self {
            order_key: order_key("orderKey", &body.order_key)?,
            payment_key: PaymentKey::new(body.payment_key)
                .map_err(|e| ApiError::validation(format!("paymentKey: {e}")))?,
            amount: money("amount", body.amount)?,
        })
    }
}

/// `202` of a confirm whose outcome the gateway has not told yet; poll the order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmPending {
    /// Always `CONFIRMING`.
    #[schema(example = "CONFIRMING")]
    pub status: String,
    pub order_key: String,
}

/// `POST /v1/payments/fail`: what the gateway's failure redirect brought back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentFailRequest {
    pub order_key: String,
    #[schema(example = "PAY_PROCESS_CANCELED")]
    pub code: String,
    #[schema(example = "사용자에 의해 결제가 취소되었습니다")]
    pub message: String,
}

/// A validated failure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFail {
    pub order_key: OrderKey,
    pub failure: PaymentFailure,
}

impl TryFrom<PaymentFailRequest> for PaymentFail {
    type Error = ApiError;

    fn try_from(body: PaymentFailRequest) -> Result<Self, ApiError> {
        Ok(Self {
            order_key: order_key("orderKey", &body.order_key)?,
            failure: PaymentFailure {
                code: text("code", &body.code, 100)?,
                message: text("message", &body.message, 1000)?,
            },
        })
    }
}

/// `200` of `POST /v1/payments/fail`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailureView {
    pub payment_id: i64,
    pub order_key: String,
    pub status: PaymentStatusDto,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
}

impl PaymentFailureView {
    pub fn new(payment: Payment, order_key: OrderKey) -> Self {
        let (failure_code, failure_message) = payment
            .failure
            .map_or((None, None), |f| (Some(f.code), Some(f.message)));
        Self {
            payment_id: payment.id.value(),
            order_key: order_key.to_string(),
            status: payment.status.into(),
            failure_code,
            failure_message,
        }
    }
}
