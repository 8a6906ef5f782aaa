//! Each use case's error enum, variant by variant, as a problem (see `crate::problem` for the
//! story). Matches are exhaustive so a new domain variant fails to compile here until it has a
//! status and a code.

use domain::model::{Money, OrderStatus, PaymentStatus, PricingError};
use domain::usecases::{
    CancelOrderError, CartError, CatalogError, CheckoutError, ConfirmPaymentError,
    CouponUseCaseError, CreateCouponError, CreateProductError, GrantPointsError, OrderQueryError,
    PaymentFailureError, PlaceCartOrderError, PlaceOrderError, PointError, RequestPaymentError,
    UpdateProductUseCaseError,
};

use crate::problem::{ApiError, Code, Extras};

fn not_payable(status: OrderStatus) -> ApiError {
    ApiError::new(
        Code::OrderNotPayable,
        format!("the order is {} and cannot be paid", status.as_str()),
    )
}

fn expired() -> ApiError {
    ApiError::new(Code::OrderExpired, "the order has expired; place it again")
}

fn order_not_found() -> ApiError {
    ApiError::new(Code::OrderNotFound, "order not found")
}

fn payment_in_progress(status: Option<PaymentStatus>) -> ApiError {
    let detail = match status {
        Some(status) => format!(
            "the order's payment is {}; try again shortly",
            status.as_str()
        ),
        None => "a payment of the order is being processed; try again shortly".to_owned(),
    };
    ApiError::new(Code::PaymentInProgress, detail).retryable()
}

#[allow(clippy::unnecessary_wraps)] // reads as "this extra field is set"
fn won(money: Money) -> Option<i64> {
    Some(money.won())
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::NotFound(id) => {
                ApiError::new(Code::ProductNotFound, format!("product {id} not found"))
            }
            CatalogError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CartError> for ApiError {
    fn from(error: CartError) -> Self {
        match error {
            CartError::ProductNotFound(id) => {
                ApiError::new(Code::ProductNotFound, format!("product {id} not found"))
            }
            CartError::ProductUnavailable(id) => ApiError::new(
                Code::ProductUnavailable,
                format!("product {id} is not on sale"),
            ),
            CartError::ItemNotFound(id) => {
                ApiError::new(Code::CartItemNotFound, format!("cart item {id} not found"))
            }
            CartError::QuantityLimit => ApiError::new(Code::CartQuantityLimit, error.to_string()),
            CartError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<PlaceOrderError> for ApiError {
    fn from(error: PlaceOrderError) -> Self {
        match error {
            PlaceOrderError::ProductNotFound(id) => CartError::ProductNotFound(id).into(),
            PlaceOrderError::ProductUnavailable(id) => CartError::ProductUnavailable(id).into(),
            PlaceOrderError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<PlaceCartOrderError> for ApiError {
    fn from(error: PlaceCartOrderError) -> Self {
        match error {
            PlaceCartOrderError::NothingSelected | PlaceCartOrderError::TooManyItems(_) => {
                ApiError::validation(format!("cartItemIds: {error}"))
            }
            PlaceCartOrderError::CartItemNotFound(id) => CartError::ItemNotFound(id).into(),
            PlaceCartOrderError::ProductNotFound(id) => CartError::ProductNotFound(id).into(),
            PlaceCartOrderError::ProductUnavailable(id) => CartError::ProductUnavailable(id).into(),
            PlaceCartOrderError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::NotFound => order_not_found(),
            CheckoutError::NotPayable(status) => not_payable(status),
            CheckoutError::Expired => expired(),
            CheckoutError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<OrderQueryError> for ApiError {
    fn from(error: OrderQueryError) -> Self {
        match error {
            OrderQueryError::NotFound => order_not_found(),
            OrderQueryError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<RequestPaymentError> for ApiError {
    fn from(error: RequestPaymentError) -> Self {
        match error {
            RequestPaymentError::OrderNotFound => order_not_found(),
            RequestPaymentError::OrderNotPayable(status) => not_payable(status),
            RequestPaymentError::OrderExpired => expired(),
            RequestPaymentError::CouponNotFound => ApiError::new(
                Code::CouponNotFound,
                "ownedCouponId: no such coupon of yours",
            ),
            RequestPaymentError::CouponUnavailable => {
                ApiError::new(Code::CouponUnavailable, "the coupon is used or expired")
            }
            RequestPaymentError::CouponNotApplicable(rule) => coupon_rule(&rule),
            RequestPaymentError::InsufficientPoints { balance } => ApiError::new(
                Code::InsufficientPoints,
                format!("only {} points are available", balance.won()),
            )
            .with(Extras {
                balance: won(balance),
                ..Extras::default()
            }),
            RequestPaymentError::PointsExceedPayable { payable } => ApiError::new(
                Code::PointsExceedPayable,
                format!("at most {} points can be used on this order", payable.won()),
            )
            .with(Extras {
                payable: won(payable),
                ..Extras::default()
            }),
            RequestPaymentError::PaymentInProgress(status) => payment_in_progress(Some(status)),
            RequestPaymentError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

fn coupon_rule(rule: &PricingError) -> ApiError {
    ApiError::new(Code::CouponNotApplicable, rule.to_string())
}

impl From<ConfirmPaymentError> for ApiError {
    fn from(error: ConfirmPaymentError) -> Self {
        match error {
            ConfirmPaymentError::OrderNotFound => order_not_found(),
            ConfirmPaymentError::NoPayment => ApiError::new(
                Code::PaymentNotRequested,
                "the order has no payment to confirm; request one first (POST /v1/payments)",
            ),
            ConfirmPaymentError::AmountMismatch { expected, actual } => ApiError::new(
                Code::AmountMismatch,
                format!(
                    "the amount {} does not match the payment's {}",
                    actual.won(),
                    expected.won()
                ),
            )
            .with(Extras {
                expected_amount: won(expected),
                ..Extras::default()
            }),
            ConfirmPaymentError::OrderNotPayable(status) => not_payable(status),
            ConfirmPaymentError::OrderExpired => expired(),
            ConfirmPaymentError::PaymentInProgress => payment_in_progress(None),
            ConfirmPaymentError::OutOfStock { product_id } => ApiError::new(
                Code::OutOfStock,
                format!("product {product_id} is out of stock"),
            )
            .with(Extras {
                product_id: Some(product_id.value()),
                ..Extras::default()
            }),
            ConfirmPaymentError::CouponUnavailable => {
                ApiError::new(Code::CouponUnavailable, "the coupon can no longer be used")
            }
            ConfirmPaymentError::InsufficientPoints => ApiError::new(
                Code::InsufficientPoints,
                "the point balance is too small for this payment",
            ),
            ConfirmPaymentError::Declined(failure) => {
                ApiError::new(Code::PaymentDeclined, failure.message).with(Extras {
                    gateway_code: Some(failure.code),
                    ..Extras::default()
                })
            }
            ConfirmPaymentError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<PaymentFailureError> for ApiError {
    fn from(error: PaymentFailureError) -> Self {
        match error {
            PaymentFailureError::OrderNotFound => order_not_found(),
            PaymentFailureError::NotReady(status) => ApiError::new(
                Code::PaymentNotReady,
                format!(
                    "the payment is {}; only a READY payment can fail",
                    status.as_str()
                ),
            ),
            PaymentFailureError::NoPayment => {
                ApiError::new(Code::PaymentNotRequested, "the order has no payment")
            }
            PaymentFailureError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CancelOrderError> for ApiError {
    fn from(error: CancelOrderError) -> Self {
        match error {
            CancelOrderError::NotFound => order_not_found(),
            CancelOrderError::NotCancelable(status) => ApiError::new(
                Code::OrderNotCancelable,
                format!("the order is {} and cannot be canceled", status.as_str()),
            ),
            CancelOrderError::PaymentInProgress => payment_in_progress(None),
            CancelOrderError::Rejected(failure) => {
                ApiError::new(Code::CancelRejected, failure.message).with(Extras {
                    gateway_code: Some(failure.code),
                    ..Extras::default()
                })
            }
            CancelOrderError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CouponUseCaseError> for ApiError {
    fn from(error: CouponUseCaseError) -> Self {
        match error {
            CouponUseCaseError::NotFound(id) => {
                ApiError::new(Code::CouponNotFound, format!("coupon {id} not found"))
            }
            CouponUseCaseError::Expired => ApiError::new(Code::CouponExpired, error.to_string()),
            CouponUseCaseError::AlreadyDownloaded => {
                ApiError::new(Code::CouponAlreadyDownloaded, error.to_string())
            }
            CouponUseCaseError::Exhausted => {
                ApiError::new(Code::CouponExhausted, error.to_string())
            }
            CouponUseCaseError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<PointError> for ApiError {
    fn from(error: PointError) -> Self {
        match error {
            PointError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CreateProductError> for ApiError {
    fn from(error: CreateProductError) -> Self {
        match error {
            CreateProductError::Invalid(e) => ApiError::validation(e.to_string()),
            CreateProductError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<UpdateProductUseCaseError> for ApiError {
    fn from(error: UpdateProductUseCaseError) -> Self {
        match error {
            UpdateProductUseCaseError::NotFound(id) => {
                ApiError::new(Code::ProductNotFound, format!("product {id} not found"))
            }
            UpdateProductUseCaseError::Invalid(e) => ApiError::validation(e.to_string()),
            UpdateProductUseCaseError::Conflict => {
                ApiError::new(Code::ConcurrentUpdate, error.to_string()).retryable()
            }
            UpdateProductUseCaseError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<CreateCouponError> for ApiError {
    fn from(error: CreateCouponError) -> Self {
        match error {
            CreateCouponError::Invalid(e) => ApiError::validation(e.to_string()),
            CreateCouponError::UnknownProduct(id) => ApiError::new(
                Code::ProductNotFound,
                format!("productIds: product {id} not found"),
            ),
            CreateCouponError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}

impl From<GrantPointsError> for ApiError {
    fn from(error: GrantPointsError) -> Self {
        match error {
            GrantPointsError::ZeroAmount => ApiError::validation(format!("amount: {error}")),
            GrantPointsError::Reason => ApiError::validation(format!("reason: {error}")),
            GrantPointsError::Unknown(e) => ApiError::from_infra(&e),
        }
    }
}
