use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{
    CartItemId, Money, OrderId, OrderKey, OrderStatus, OwnedCouponId, Payment, PaymentFailure,
    PaymentId, PaymentKey, PaymentStatus, ProductId, Quantity, ShippingAddress, UserId,
};

/// A priced payment to create for a CREATED order (or to replace its READY payment with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub order_id: OrderId,
    pub shipping_address: ShippingAddress,
    /// Each order item's share of the coupon discount, in item order.
    pub line_discounts: Vec<Money>,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub origin_amount: Money,
    pub coupon_discount: Money,
    pub used_point: Money,
    pub shipping_fee: Money,
    pub amount: Money,
    pub now: OffsetDateTime,
}

/// Why a payment could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PreparePaymentError {
    #[error("the order is {0:?}")]
    OrderNotPayable(OrderStatus),
    /// The order's live payment is past READY (being confirmed, or approved).
    #[error("the order's payment is {0:?}")]
    PaymentInProgress(PaymentStatus),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Everything a confirmation takes hold of before the gateway is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    pub payment_key: PaymentKey,
    /// Units per product, sorted by product id.
    pub stock: Vec<(ProductId, Quantity)>,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub used_point: Money,
    pub now: OffsetDateTime,
}

/// Why a reservation did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The order is not CREATED any more.
    #[error("the order is {0:?}")]
    OrderNotPayable(OrderStatus),
    /// The order is CREATED but past its expiry.
    #[error("the order has expired")]
    OrderExpired,
    /// Someone else moved the payment first; here is the payment as they left it.
    #[error("the payment is {:?}", .0.status)]
    PaymentChanged(Box<Payment>),
    #[error("product {product_id} is out of stock")]
    OutOfStock { product_id: ProductId },
    /// The coupon is used, expired, or not the user's.
    #[error("the coupon can no longer be used")]
    CouponUnavailable,
    #[error("the point balance is too small")]
    InsufficientPoints,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The gateway approved: settle the order as paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    pub method: String,
    pub approved_at: OffsetDateTime,
    /// Points to credit for this order.
    pub earned_point: Money,
    /// Cart lines to remove now that they are bought.
    pub cart_item_ids: Vec<CartItemId>,
    pub now: OffsetDateTime,
}

/// The gateway declined: give back everything the reservation took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    pub stock: Vec<(ProductId, Quantity)>,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub used_point: Money,
    pub failure: PaymentFailure,
    pub now: OffsetDateTime,
}

/// Why an outcome could not be written: the payment was not in the state the outcome needs
/// (someone else, e.g. the reconciler, settled it first).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("the payment is {0:?}")]
    Lost(PaymentStatus),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// A paid order's cancellation is starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelStart {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    /// Points the order earned, to take back.
    pub earned_point: Money,
    pub now: OffsetDateTime,
}

/// Why a cancellation could not start.
#[derive(Debug, thiserror::Error)]
pub enum BeginCancelError {
    #[error("the order is {0:?}")]
    OrderNotCancelable(OrderStatus),
    #[error("the payment is {0:?}")]
    PaymentChanged(PaymentStatus),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The gateway refunded: finish the cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelCompletion {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    pub stock: Vec<(ProductId, Quantity)>,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub used_point: Money,
    pub now: OffsetDateTime,
}

/// The gateway refused the refund for good: the order stays paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRejection {
    pub payment_id: PaymentId,
    pub order_key: OrderKey,
    pub user_id: UserId,
    /// The earned points taken back at the start, to credit again.
    pub revoked_point: Money,
    pub failure: PaymentFailure,
    pub now: OffsetDateTime,
}

/// Payments, and the atomic multi-table changes around them (stock, coupons, points, orders).
/// Each method is one transaction; each state change is a compare-and-set on the payment status.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentRepository: Send + Sync {
    /// Stores the shipping address and coupon shares on the order and creates its READY payment,
    /// or rewrites the READY payment it already has. Reserves nothing.
    ///
    /// # Errors
    /// `OrderNotPayable` if the order is not CREATED; `PaymentInProgress` if its live payment is
    /// CONFIRMING, APPROVED or later.
    async fn prepare(&self, request: PaymentRequest) -> Result<Payment, PreparePaymentError>;

    /// The order's most recent payment, live or not.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn latest_for_order(&self, order: OrderId) -> anyhow::Result<Option<Payment>>;

    /// # Errors
    /// Only infrastructure failures.
    async fn find(&self, id: PaymentId) -> anyhow::Result<Option<Payment>>;

    /// Step (a) of a confirmation, all or nothing: the order must be CREATED and unexpired; the
    /// payment moves READY → CONFIRMING with its payment key; each product's stock is decremented
    /// (in product id order, only if enough is left); the coupon goes ISSUED → USED on this order;
    /// the points are deducted with a USE ledger entry. Returns the CONFIRMING payment.
    ///
    /// # Errors
    /// The first conflict found, with nothing changed: `OrderNotPayable`, `OrderExpired`,
    /// `PaymentChanged` (with the payment as it is now), `OutOfStock`, `CouponUnavailable`,
    /// `InsufficientPoints`.
    async fn reserve(&self, reservation: Reservation) -> Result<Payment, ReserveError>;

    /// Step (c): payment CONFIRMING → APPROVED, order CREATED → PAID with the payment's amounts,
    /// earned points credited (EARN), the source cart lines removed, an `OrderPaid` outbox event.
    ///
    /// # Errors
    /// `Lost` if the payment is not CONFIRMING any more (nothing changed).
    async fn approve(&self, approval: Approval) -> Result<(), SettleError>;

    /// Step (d): payment CONFIRMING → FAILED with the failure; stock, coupon and points (REFUND)
    /// given back; the order stays CREATED so it can be paid again.
    ///
    /// # Errors
    /// `Lost` if the payment is not CONFIRMING any more (nothing changed).
    async fn release(&self, release: Release) -> Result<(), SettleError>;

    /// READY → FAILED with the failure the buyer brought back from the gateway.
    ///
    /// # Errors
    /// `Lost` if the payment is not READY.
    async fn record_failure(
        &self,
        payment: PaymentId,
        failure: PaymentFailure,
        now: OffsetDateTime,
    ) -> Result<(), SettleError>;

    /// Claims up to `limit` payments pending at the gateway (CONFIRMING or CANCELING) that were
    /// last touched before `stale_before`, marking them touched at `now` so other instances skip
    /// them for a while. Safe to run from several instances at once.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn claim_pending(
        &self,
        stale_before: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Vec<Payment>>;

    /// Starts cancelling a PAID order: payment APPROVED → CANCELING; the earned points are taken
    /// back as far as the balance allows (EARN_REVOKE), and the part that could not be taken back
    /// (already spent) is deducted from the refund, as computed by
    /// [`crate::usecases::refund_after_revoke`]. Returns the CANCELING payment with its
    /// `cancel_amount` and `revoked_point`.
    ///
    /// # Errors
    /// `OrderNotCancelable` if the order is not PAID; `PaymentChanged` if the payment is not APPROVED.
    async fn begin_cancel(&self, start: CancelStart) -> Result<Payment, BeginCancelError>;

    /// The gateway refunded: payment CANCELING → CANCELED, order PAID → CANCELED, stock restored,
    /// coupon back to ISSUED, used points refunded (REFUND), an `OrderCanceled` outbox event.
    ///
    /// # Errors
    /// `Lost` if the payment is not CANCELING.
    async fn complete_cancel(&self, completion: CancelCompletion) -> Result<(), SettleError>;

    /// The gateway refused the refund: payment CANCELING → APPROVED, revoked points credited back (EARN).
    ///
    /// # Errors
    /// `Lost` if the payment is not CANCELING.
    async fn reject_cancel(&self, rejection: CancelRejection) -> Result<(), SettleError>;
}
