//! Paying for an order and cancelling it, following Toss Payments' widget flow.
//!
//! Confirmation is three steps so that no database transaction is open while the gateway is
//! called: (a) reserve stock, coupon and points and mark the payment CONFIRMING, in one
//! transaction; (b) ask the gateway; (c) write its answer in a second transaction. If the process
//! dies between (a) and (c), the payment stays CONFIRMING and [`Payments::reconcile_pending`]
//! finishes it by asking the gateway. Cancelling a paid order works the same way with CANCELING.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::model::{
    Money, Order, OrderKey, OrderStatus, OwnedCouponId, Payment, PaymentFailure, PaymentKey,
    PaymentStatus, PricingError, ProductId, ShippingAddress, UserId, pricing,
};
use crate::ports::{
    Approval, BeginCancelError, CancelCompletion, CancelOutcome, CancelRejection, CancelStart,
    CancelUnpaidError, Clock, CouponRepository, GatewayApproval, GatewayCancel, GatewayConfirm,
    GatewayLookup, GatewayOutcome, LookupOutcome, OrderRepository, PaymentGateway,
    PaymentRepository, PaymentRequest, PointRepository, PreparePaymentError, Release, Reservation,
    ReserveError, SettleError,
};

use super::ordering::{OrderDetail, ensure_payable, priced_lines};
use super::{Policies, Ports};

/// A buyer's payment request (`POST /v1/payments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPayment {
    pub order_key: OrderKey,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub use_point: Money,
    pub shipping_address: ShippingAddress,
}

#[derive(Debug, thiserror::Error)]
pub enum RequestPaymentError {
    #[error("order not found")]
    OrderNotFound,
    #[error("the order is {0:?} and cannot be paid")]
    OrderNotPayable(OrderStatus),
    #[error("the order has expired")]
    OrderExpired,
    #[error("coupon not found")]
    CouponNotFound,
    #[error("the coupon is used or expired")]
    CouponUnavailable,
    #[error("the coupon cannot be used on this order: {0}")]
    CouponNotApplicable(PricingError),
    #[error("only {balance} points are available")]
    InsufficientPoints { balance: Money },
    #[error("at most {payable} points can be used on this order")]
    PointsExceedPayable { payable: Money },
    #[error("the order's payment is already {0:?}")]
    PaymentInProgress(PaymentStatus),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmPaymentError {
    #[error("order not found")]
    OrderNotFound,
    #[error("the order has no payment to confirm; request one first")]
    NoPayment,
    #[error("the amount {actual} does not match the payment's {expected}")]
    AmountMismatch { expected: Money, actual: Money },
    #[error("the order is {0:?} and cannot be paid")]
    OrderNotPayable(OrderStatus),
    #[error("the order has expired")]
    OrderExpired,
    #[error("another payment of this order is being confirmed")]
    PaymentInProgress,
    #[error("product {product_id} is out of stock")]
    OutOfStock { product_id: ProductId },
    #[error("the coupon can no longer be used")]
    CouponUnavailable,
    #[error("the point balance is too small")]
    InsufficientPoints,
    #[error("the payment was declined: {}", .0.message)]
    Declined(PaymentFailure),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The result of a confirm that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// Approved: the order is PAID.
    Paid(Box<OrderDetail>),
    /// The gateway's answer is not known yet; the reconciler will settle it.
    Pending,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentFailureError {
    #[error("order not found")]
    OrderNotFound,
    #[error("the order's payment is {0:?}, not READY")]
    NotReady(PaymentStatus),
    #[error("the order has no payment")]
    NoPayment,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CancelOrderError {
    #[error("order not found")]
    NotFound,
    #[error("the order is {0:?} and cannot be canceled")]
    NotCancelable(OrderStatus),
    #[error("a payment of the order is being confirmed; try again shortly")]
    PaymentInProgress,
    #[error("the gateway refused the refund: {}", .0.message)]
    Rejected(PaymentFailure),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The result of a cancel that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcomeView {
    Canceled(Box<OrderDetail>),
    /// The gateway's refund is not confirmed yet; the reconciler will finish it.
    Pending,
}

/// What one reconciler pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub approved: u32,
    pub declined: u32,
    pub canceled: u32,
    pub cancel_rejected: u32,
    pub still_pending: u32,
    pub errors: u32,
}

/// How a settlement attempt ended.
enum Settled {
    Approved,
    Declined(PaymentFailure),
    Pending,
    /// Someone else settled it first.
    Lost,
}

/// Payment and cancel use cases, and the reconciler that finishes what they leave pending.
#[derive(Clone)]
pub struct Payments {
    orders: Arc<dyn OrderRepository>,
    payments: Arc<dyn PaymentRepository>,
    coupons: Arc<dyn CouponRepository>,
    points: Arc<dyn PointRepository>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    policies: Policies,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// The method recorded for an order paid entirely with points (nothing to charge at the gateway).
pub const POINTS_ONLY_METHOD: &str = "POINT";

impl Payments {
    pub fn new(ports: &Ports, policies: Policies) -> Self {
        Self {
            orders: ports.orders.clone(),
            payments: ports.payments.clone(),
            coupons: ports.coupons.clone(),
            points: ports.points.clone(),
            gateway: ports.gateway.clone(),
            clock: ports.clock.clone(),
            policies,
        }
    }

    async fn owned_order(&self, user: UserId, key: OrderKey) -> anyhow::Result<Option<Order>> {
        Ok(self
            .orders
            .find_by_key(key)
            .await?
            .filter(|o| o.is_owned_by(user)))
    }

    /// Step 1: validates the coupon and points, prices the order and stores a READY payment
    /// (replacing an earlier READY one). Nothing is reserved yet.
    #[tracing::instrument(skip_all, fields(user.id = %user, order.key = %request.order_key))]
    pub async fn request(
        &self,
        user: UserId,
        request: RequestPayment,
    ) -> Result<Payment, RequestPaymentError> {
        let order = self
            .owned_order(user, request.order_key)
            .await?
            .ok_or(RequestPaymentError::OrderNotFound)?;
        let now = self.clock.now();
        ensure_payable(&order, now).map_err(|status| match status {
            Some(status) => RequestPaymentError::OrderNotPayable(status),
            None => RequestPaymentError::OrderExpired,
        })?;
        let coupon = match request.owned_coupon_id {
            Some(id) => {
                let owned = self
                    .coupons
                    .find_owned(user, id)
                    .await?
                    .ok_or(RequestPaymentError::CouponNotFound)?;
                if !owned.is_usable_at(now) {
                    return Err(RequestPaymentError::CouponUnavailable);
                }
                Some(owned.coupon)
            }
            None => None,
        };
        let balance = if request.use_point.is_zero() {
            Money::ZERO
        } else {
            self.points.balance(user).await?
        };
        let priced = pricing::price_order(
            &priced_lines(&order),
            coupon.as_ref(),
            request.use_point,
            balance,
            self.policies.shipping,
        )
        .map_err(|e| match e {
            PricingError::InsufficientPoints { balance } => {
                RequestPaymentError::InsufficientPoints { balance }
            }
            PricingError::PointsExceedPayable { payable } => {
                RequestPaymentError::PointsExceedPayable { payable }
            }
            PricingError::Overflow => {
                RequestPaymentError::Unknown(anyhow::anyhow!("order amounts overflow"))
            }
            coupon_rule => RequestPaymentError::CouponNotApplicable(coupon_rule),
        })?;
        let prepared = self
            .payments
            .prepare(PaymentRequest {
                order_id: order.id,
                shipping_address: request.shipping_address,
                line_discounts: priced.line_discounts,
                owned_coupon_id: request.owned_coupon_id,
                origin_amount: priced.items_total,
                coupon_discount: priced.coupon_discount,
                used_point: priced.used_point,
                shipping_fee: priced.shipping_fee,
                amount: priced.amount,
                now,
            })
            .await;
        prepared.map_err(|e| match e {
            PreparePaymentError::OrderNotPayable(status) => {
                RequestPaymentError::OrderNotPayable(status)
            }
            PreparePaymentError::PaymentInProgress(status) => {
                RequestPaymentError::PaymentInProgress(status)
            }
            PreparePaymentError::Unknown(e) => RequestPaymentError::Unknown(e),
        })
    }

    /// Step 3: reserve → gateway → approve, or release on decline, or stay CONFIRMING when the
    /// answer is unknown. A repeated confirm answers from the stored state and never calls the
    /// gateway twice for one payment.
    #[tracing::instrument(skip_all, fields(user.id = %user, order.key = %order_key))]
    pub async fn confirm(
        &self,
        user: UserId,
        order_key: OrderKey,
        payment_key: PaymentKey,
        amount: Money,
    ) -> Result<ConfirmOutcome, ConfirmPaymentError> {
        let order = self
            .owned_order(user, order_key)
            .await?
            .ok_or(ConfirmPaymentError::OrderNotFound)?;
        let payment = self
            .payments
            .latest_for_order(order.id)
            .await?
            .ok_or(ConfirmPaymentError::NoPayment)?;
        if payment.status == PaymentStatus::Failed && order.status != OrderStatus::Created {
            // Canceled or expired: its last payment was failed along with it.
            return Err(ConfirmPaymentError::OrderNotPayable(order.status));
        }
        if payment.status != PaymentStatus::Ready {
            let order = self.orders.find_by_id(order.id).await?.unwrap_or(order);
            return answer_from_state(order, payment, &payment_key);
        }
        ensure_payable(&order, self.clock.now()).map_err(|status| match status {
            Some(status) => ConfirmPaymentError::OrderNotPayable(status),
            None => ConfirmPaymentError::OrderExpired,
        })?;
        if amount != payment.amount {
            return Err(ConfirmPaymentError::AmountMismatch {
                expected: payment.amount,
                actual: amount,
            });
        }
        let reserved = self
            .payments
            .reserve(Reservation {
                payment_id: payment.id,
                order_id: order.id,
                order_key: order.key,
                user_id: order.user_id,
                payment_key: payment_key.clone(),
                stock: order.stock_lines(),
                owned_coupon_id: payment.owned_coupon_id,
                used_point: payment.used_point,
                now: self.clock.now(),
            })
            .await;
        let payment = match reserved {
            Ok(payment) => payment,
            Err(ReserveError::PaymentChanged(now)) => {
                let order = self.orders.find_by_id(order.id).await?.unwrap_or(order);
                return answer_from_state(order, *now, &payment_key);
            }
            Err(e) => return Err(reserve_error(e)),
        };
        let outcome = self.ask_gateway_to_confirm(&order, &payment).await;
        match self.settle_confirmation(&order, &payment, outcome).await? {
            Settled::Approved | Settled::Lost => self.answer_after_settling(order).await,
            Settled::Declined(failure) => Err(ConfirmPaymentError::Declined(failure)),
            Settled::Pending => Ok(ConfirmOutcome::Pending),
        }
    }

    /// Re-reads the order and payment after someone settled it, and answers from what is stored.
    async fn answer_after_settling(
        &self,
        order: Order,
    ) -> Result<ConfirmOutcome, ConfirmPaymentError> {
        let order = self.orders.find_by_id(order.id).await?.unwrap_or(order);
        let payment = self
            .payments
            .latest_for_order(order.id)
            .await?
            .ok_or(ConfirmPaymentError::NoPayment)?;
        match payment.status {
            PaymentStatus::Failed => Err(ConfirmPaymentError::Declined(
                payment.failure.unwrap_or_else(unknown_failure),
            )),
            PaymentStatus::Confirming => Ok(ConfirmOutcome::Pending),
            _ => Ok(ConfirmOutcome::Paid(Box::new(OrderDetail {
                order,
                payment: Some(payment),
            }))),
        }
    }
}

/// A confirm for a payment that is already past READY: answer what happened, without calling
/// the gateway again.
fn answer_from_state(
    order: Order,
    payment: Payment,
    payment_key: &PaymentKey,
) -> Result<ConfirmOutcome, ConfirmPaymentError> {
    let same_key = payment.payment_key.as_ref() == Some(payment_key);
    match payment.status {
        PaymentStatus::Ready => Err(ConfirmPaymentError::PaymentInProgress),
        PaymentStatus::Confirming if same_key => Ok(ConfirmOutcome::Pending),
        PaymentStatus::Confirming => Err(ConfirmPaymentError::PaymentInProgress),
        PaymentStatus::Failed if same_key => Err(ConfirmPaymentError::Declined(
            payment.failure.unwrap_or_else(unknown_failure),
        )),
        PaymentStatus::Failed => Err(ConfirmPaymentError::NoPayment),
        PaymentStatus::Approved | PaymentStatus::Canceling | PaymentStatus::Canceled
            if same_key =>
        {
            Ok(ConfirmOutcome::Paid(Box::new(OrderDetail {
                order,
                payment: Some(payment),
            })))
        }
        PaymentStatus::Approved | PaymentStatus::Canceling | PaymentStatus::Canceled => {
            Err(ConfirmPaymentError::OrderNotPayable(order.status))
        }
    }
}

impl Payments {
    /// Step (b): asks the gateway to capture. An order paid entirely with points has nothing to
    /// capture and is approved here.
    async fn ask_gateway_to_confirm(&self, order: &Order, payment: &Payment) -> GatewayOutcome {
        if payment.amount.is_zero() {
            return GatewayOutcome::Approved(GatewayApproval {
                method: POINTS_ONLY_METHOD.to_owned(),
                approved_at: self.clock.now(),
            });
        }
        let Some(payment_key) = payment.payment_key.clone() else {
            return GatewayOutcome::Unknown("the payment has no payment key".to_owned());
        };
        self.gateway
            .confirm(GatewayConfirm {
                payment_key,
                order_key: order.key,
                amount: payment.amount,
                idempotency_key: payment.confirm_idempotency_key(order.key),
            })
            .await
    }

    /// Step (c) or (d): writes the gateway's answer to a confirm.
    async fn settle_confirmation(
        &self,
        order: &Order,
        payment: &Payment,
        outcome: GatewayOutcome,
    ) -> anyhow::Result<Settled> {
        let now = self.clock.now();
        let written = match outcome {
            GatewayOutcome::Approved(approval) => {
                let approve = Approval {
                    payment_id: payment.id,
                    order_id: order.id,
                    order_key: order.key,
                    user_id: order.user_id,
                    method: approval.method,
                    approved_at: approval.approved_at,
                    earned_point: self.policies.earning.earned_on(payment.amount),
                    cart_item_ids: order.source_cart_item_ids.clone(),
                    now,
                };
                self.payments
                    .approve(approve)
                    .await
                    .map(|()| Settled::Approved)
            }
            GatewayOutcome::Declined(failure) => self
                .payments
                .release(Release {
                    payment_id: payment.id,
                    order_id: order.id,
                    order_key: order.key,
                    user_id: order.user_id,
                    stock: order.stock_lines(),
                    owned_coupon_id: payment.owned_coupon_id,
                    used_point: payment.used_point,
                    failure: failure.clone(),
                    now,
                })
                .await
                .map(|()| Settled::Declined(failure)),
            GatewayOutcome::Unknown(reason) => {
                tracing::warn!(payment.id = %payment.id, %reason, "gateway outcome unknown; left CONFIRMING");
                return Ok(Settled::Pending);
            }
        };
        settled_or_lost(written, payment)
    }

    /// `POST /v1/payments/fail`: the buyer came back from the gateway with a failure.
    /// Recording it twice is harmless.
    pub async fn record_failure(
        &self,
        user: UserId,
        order_key: OrderKey,
        failure: PaymentFailure,
    ) -> Result<Payment, PaymentFailureError> {
        let order = self
            .owned_order(user, order_key)
            .await?
            .ok_or(PaymentFailureError::OrderNotFound)?;
        let payment = self
            .payments
            .latest_for_order(order.id)
            .await?
            .ok_or(PaymentFailureError::NoPayment)?;
        match payment.status {
            PaymentStatus::Ready => {}
            PaymentStatus::Failed => return Ok(payment),
            other => return Err(PaymentFailureError::NotReady(other)),
        }
        match self
            .payments
            .record_failure(payment.id, failure, self.clock.now())
            .await
        {
            Ok(()) | Err(SettleError::Lost(PaymentStatus::Failed)) => {}
            Err(SettleError::Lost(other)) => return Err(PaymentFailureError::NotReady(other)),
            Err(SettleError::Unknown(e)) => return Err(e.into()),
        }
        self.payments
            .find(payment.id)
            .await?
            .ok_or(PaymentFailureError::NoPayment)
    }

    /// Cancels an order. CREATED: just CANCELED. PAID: refund at the gateway (outside any
    /// transaction), then restore stock, coupon and points in one transaction.
    #[tracing::instrument(skip_all, fields(user.id = %user, order.key = %key))]
    pub async fn cancel(
        &self,
        user: UserId,
        key: OrderKey,
        reason: &str,
    ) -> Result<CancelOutcomeView, CancelOrderError> {
        let order = self
            .owned_order(user, key)
            .await?
            .ok_or(CancelOrderError::NotFound)?;
        match order.status {
            OrderStatus::Created => {
                self.orders
                    .cancel_unpaid(order.id, self.clock.now())
                    .await
                    .map_err(|e| match e {
                        CancelUnpaidError::NotCancelable(status) => {
                            CancelOrderError::NotCancelable(status)
                        }
                        CancelUnpaidError::PaymentInProgress => CancelOrderError::PaymentInProgress,
                        CancelUnpaidError::Unknown(e) => CancelOrderError::Unknown(e),
                    })?;
                self.canceled_detail(order).await
            }
            OrderStatus::Paid => self.cancel_paid(order, reason).await,
            // Already canceled (e.g. a retry after an answer was lost): the same answer again.
            OrderStatus::Canceled => self.canceled_detail(order).await,
            status @ OrderStatus::Expired => Err(CancelOrderError::NotCancelable(status)),
        }
    }

    async fn cancel_paid(
        &self,
        order: Order,
        reason: &str,
    ) -> Result<CancelOutcomeView, CancelOrderError> {
        let payment = self
            .payments
            .latest_for_order(order.id)
            .await?
            .ok_or_else(|| {
                CancelOrderError::Unknown(anyhow::anyhow!(
                    "paid order {} has no payment",
                    order.key
                ))
            })?;
        let payment = match payment.status {
            PaymentStatus::Approved => {
                let started = self
                    .payments
                    .begin_cancel(CancelStart {
                        payment_id: payment.id,
                        order_id: order.id,
                        order_key: order.key,
                        user_id: order.user_id,
                        earned_point: order.amounts.earned_point,
                        now: self.clock.now(),
                    })
                    .await;
                match started {
                    Ok(payment) => payment,
                    Err(BeginCancelError::PaymentChanged(PaymentStatus::Canceling)) => {
                        return Ok(CancelOutcomeView::Pending);
                    }
                    Err(
                        BeginCancelError::PaymentChanged(PaymentStatus::Canceled)
                        | BeginCancelError::OrderNotCancelable(OrderStatus::Canceled),
                    ) => return self.canceled_detail(order).await,
                    Err(BeginCancelError::PaymentChanged(_)) => {
                        return Err(CancelOrderError::PaymentInProgress);
                    }
                    Err(BeginCancelError::OrderNotCancelable(status)) => {
                        return Err(CancelOrderError::NotCancelable(status));
                    }
                    Err(BeginCancelError::Unknown(e)) => return Err(e.into()),
                }
            }
            PaymentStatus::Canceling => return Ok(CancelOutcomeView::Pending),
            _ => return Err(CancelOrderError::NotCancelable(order.status)),
        };
        let outcome = self
            .ask_gateway_to_cancel(order.key, &payment, reason)
            .await;
        match self.settle_cancel(&order, &payment, outcome).await? {
            Settled::Approved | Settled::Lost => self.canceled_detail(order).await,
            Settled::Declined(failure) => Err(CancelOrderError::Rejected(failure)),
            Settled::Pending => Ok(CancelOutcomeView::Pending),
        }
    }

    async fn canceled_detail(&self, order: Order) -> Result<CancelOutcomeView, CancelOrderError> {
        let order = self.orders.find_by_id(order.id).await?.unwrap_or(order);
        let payment = self.payments.latest_for_order(order.id).await?;
        if payment
            .as_ref()
            .is_some_and(|p| p.status == PaymentStatus::Canceling)
        {
            return Ok(CancelOutcomeView::Pending);
        }
        Ok(CancelOutcomeView::Canceled(Box::new(OrderDetail {
            order,
            payment,
        })))
    }

    async fn ask_gateway_to_cancel(
        &self,
        order_key: OrderKey,
        payment: &Payment,
        reason: &str,
    ) -> CancelOutcome {
        let amount = payment.cancel_amount.unwrap_or(payment.amount);
        if amount.is_zero() {
            return CancelOutcome::Canceled;
        }
        let Some(payment_key) = payment.payment_key.clone() else {
            return CancelOutcome::Unknown("the payment has no payment key".to_owned());
        };
        self.gateway
            .cancel(GatewayCancel {
                payment_key,
                order_key,
                amount,
                reason: reason.to_owned(),
                idempotency_key: payment.cancel_idempotency_key(order_key),
            })
            .await
    }

    /// Writes the gateway's answer to a cancel. `Settled::Approved` here means "refunded".
    async fn settle_cancel(
        &self,
        order: &Order,
        payment: &Payment,
        outcome: CancelOutcome,
    ) -> anyhow::Result<Settled> {
        let now = self.clock.now();
        let written = match outcome {
            CancelOutcome::Canceled => self
                .payments
                .complete_cancel(CancelCompletion {
                    payment_id: payment.id,
                    order_id: order.id,
                    order_key: order.key,
                    user_id: order.user_id,
                    stock: order.stock_lines(),
                    owned_coupon_id: payment.owned_coupon_id,
                    used_point: payment.used_point,
                    now,
                })
                .await
                .map(|()| Settled::Approved),
            CancelOutcome::Rejected(failure) => self
                .payments
                .reject_cancel(CancelRejection {
                    payment_id: payment.id,
                    order_key: order.key,
                    user_id: order.user_id,
                    revoked_point: payment.revoked_point,
                    failure: failure.clone(),
                    now,
                })
                .await
                .map(|()| Settled::Declined(failure)),
            CancelOutcome::Unknown(reason) => {
                tracing::warn!(payment.id = %payment.id, %reason, "gateway cancel outcome unknown; left CANCELING");
                return Ok(Settled::Pending);
            }
        };
        settled_or_lost(written, payment)
    }

    /// The reconciler: asks the gateway about payments left CONFIRMING or CANCELING for longer
    /// than `stale_after`, and settles them. Safe on several instances at once (payments are
    /// claimed before they are looked up; settlement is compare-and-set).
    pub async fn reconcile_pending(
        &self,
        stale_after: Duration,
        limit: u32,
    ) -> anyhow::Result<ReconcileReport> {
        let now = self.clock.now();
        let pending = self
            .payments
            .claim_pending(now - stale_after, now, limit)
            .await?;
        let mut report = ReconcileReport::default();
        for payment in pending {
            match self.reconcile_one(&payment).await {
                Ok(Settled::Approved) if payment.status == PaymentStatus::Canceling => {
                    report.canceled += 1;
                }
                Ok(Settled::Approved) => report.approved += 1,
                Ok(Settled::Declined(_)) if payment.status == PaymentStatus::Canceling => {
                    report.cancel_rejected += 1;
                }
                Ok(Settled::Declined(_)) => report.declined += 1,
                Ok(Settled::Pending) => report.still_pending += 1,
                Ok(Settled::Lost) => {}
                Err(error) => {
                    report.errors += 1;
                    tracing::error!(payment.id = %payment.id, error = format!("{error:#}"), "reconciling a payment failed");
                }
            }
        }
        Ok(report)
    }

    async fn reconcile_one(&self, payment: &Payment) -> anyhow::Result<Settled> {
        let order = self
            .orders
            .find_by_id(payment.order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("payment {} has no order", payment.id))?;
        let lookup = match (&payment.payment_key, payment.amount.is_zero()) {
            (_, true) => LookupOutcome::NotConfirmed,
            (Some(payment_key), false) => {
                self.gateway
                    .lookup(GatewayLookup {
                        order_key: order.key,
                        payment_key: payment_key.clone(),
                    })
                    .await
            }
            (None, false) => {
                return Err(anyhow::anyhow!(
                    "pending payment {} has no payment key",
                    payment.id
                ));
            }
        };
        match payment.status {
            PaymentStatus::Confirming => {
                let outcome = match lookup {
                    LookupOutcome::Approved(approval) => GatewayOutcome::Approved(approval),
                    LookupOutcome::Declined(failure) => GatewayOutcome::Declined(failure),
                    LookupOutcome::Canceled => GatewayOutcome::Declined(PaymentFailure {
                        code: "CANCELED_AT_GATEWAY".to_owned(),
                        message:
                            "the payment was canceled at the gateway before it was confirmed here"
                                .to_owned(),
                    }),
                    // The confirm never reached the gateway (e.g. we crashed after reserving):
                    // send it again with the same idempotency key.
                    LookupOutcome::NotConfirmed => {
                        self.ask_gateway_to_confirm(&order, payment).await
                    }
                    LookupOutcome::Unknown(reason) => GatewayOutcome::Unknown(reason),
                };
                self.settle_confirmation(&order, payment, outcome).await
            }
            PaymentStatus::Canceling => {
                let outcome = match lookup {
                    LookupOutcome::Canceled => CancelOutcome::Canceled,
                    // The refund never reached the gateway: ask again with the same idempotency key.
                    LookupOutcome::Approved(_) | LookupOutcome::NotConfirmed => {
                        self.ask_gateway_to_cancel(order.key, payment, "order canceled")
                            .await
                    }
                    LookupOutcome::Declined(failure) => {
                        return Err(anyhow::anyhow!(
                            "payment {} is CANCELING here but declined at the gateway ({})",
                            payment.id,
                            failure.code
                        ));
                    }
                    LookupOutcome::Unknown(reason) => CancelOutcome::Unknown(reason),
                };
                self.settle_cancel(&order, payment, outcome).await
            }
            other => Err(anyhow::anyhow!(
                "claimed payment {} is {other:?}, not pending",
                payment.id
            )),
        }
    }

    /// For tests and tools: the time this service believes it is.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// A settlement that lost to another writer (a racing confirm, or the reconciler) is not an
/// error: the payment is already where someone else put it.
fn settled_or_lost(
    written: Result<Settled, SettleError>,
    payment: &Payment,
) -> anyhow::Result<Settled> {
    match written {
        Ok(settled) => Ok(settled),
        Err(SettleError::Lost(status)) => {
            tracing::info!(payment.id = %payment.id, ?status, "payment already settled elsewhere");
            Ok(Settled::Lost)
        }
        Err(SettleError::Unknown(e)) => Err(e),
    }
}

fn reserve_error(error: ReserveError) -> ConfirmPaymentError {
    match error {
        ReserveError::OrderNotPayable(status) => ConfirmPaymentError::OrderNotPayable(status),
        ReserveError::OrderExpired => ConfirmPaymentError::OrderExpired,
        ReserveError::PaymentChanged(_) => ConfirmPaymentError::PaymentInProgress,
        ReserveError::OutOfStock { product_id } => ConfirmPaymentError::OutOfStock { product_id },
        ReserveError::CouponUnavailable => ConfirmPaymentError::CouponUnavailable,
        ReserveError::InsufficientPoints => ConfirmPaymentError::InsufficientPoints,
        ReserveError::Unknown(e) => ConfirmPaymentError::Unknown(e),
    }
}

fn unknown_failure() -> PaymentFailure {
    PaymentFailure {
        code: "UNKNOWN".to_owned(),
        message: "the payment failed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CouponKind, OwnedCouponStatus};
    use crate::usecases::test_support::*;

    fn address() -> ShippingAddress {
        ShippingAddress::new(
            "홍길동",
            "010-1234-5678",
            "06236",
            "서울 강남구 테헤란로 1",
            None,
        )
        .unwrap()
    }

    fn key(k: &str) -> PaymentKey {
        PaymentKey::new(k).unwrap()
    }

    fn with_order(m: &mut Mocks, order: &Order) {
        let found = order.clone();
        m.orders
            .expect_find_by_key()
            .returning(move |_| Ok(Some(found.clone())));
        let found = order.clone();
        m.orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(found.clone())));
    }

    fn request(order: &Order, coupon: Option<i64>, points: i64) -> RequestPayment {
        RequestPayment {
            order_key: order.key,
            owned_coupon_id: coupon.map(OwnedCouponId::new),
            use_point: won(points),
            shipping_address: address(),
        }
    }

    // ---- request ----

    #[tokio::test]
    async fn request_prices_with_coupon_and_points() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 20_000, 1), (2, 10_000, 1)]);
        with_order(&mut m, &order);
        m.coupons.expect_find_owned().returning(|_, _| {
            Ok(Some(owned_coupon(
                5,
                CouponKind::Fixed { amount: won(3_000) },
                vec![],
            )))
        });
        m.points.expect_balance().returning(|_| Ok(won(5_000)));
        let order_for_payment = order.clone();
        m.payments
            .expect_prepare()
            .withf(|r| {
                r.coupon_discount == won(3_000)
                    && r.line_discounts == vec![won(2_000), won(1_000)]
                    && r.shipping_fee == won(3_000)
                    && r.used_point == won(1_000)
                    && r.amount == won(29_000)
                    && r.owned_coupon_id == Some(OwnedCouponId::new(5))
            })
            .returning(move |_| {
                Ok(payment_for(
                    &order_for_payment,
                    PaymentStatus::Ready,
                    29_000,
                ))
            });
        let payments = Payments::new(&m.ports(), Policies::default());
        let payment = payments
            .request(USER, request(&order, Some(5), 1_000))
            .await
            .unwrap();
        assert_eq!(payment.amount, won(29_000));
    }

    #[tokio::test]
    async fn request_refuses_used_foreign_and_inapplicable_coupons() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 20_000, 1)]);
        with_order(&mut m, &order);
        m.coupons.expect_find_owned().returning(|_, id| {
            Ok(match id.value() {
                1 => None,
                2 => {
                    let mut used =
                        owned_coupon(2, CouponKind::Fixed { amount: won(1_000) }, vec![]);
                    used.status = OwnedCouponStatus::Used;
                    Some(used)
                }
                _ => Some(owned_coupon(
                    3,
                    CouponKind::Fixed { amount: won(1_000) },
                    vec![77],
                )),
            })
        });
        m.payments.expect_prepare().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.request(USER, request(&order, Some(1), 0)).await,
            Err(RequestPaymentError::CouponNotFound)
        ));
        assert!(matches!(
            payments.request(USER, request(&order, Some(2), 0)).await,
            Err(RequestPaymentError::CouponUnavailable)
        ));
        assert!(matches!(
            payments.request(USER, request(&order, Some(3), 0)).await,
            Err(RequestPaymentError::CouponNotApplicable(
                PricingError::NoEligibleItems
            ))
        ));
    }

    #[tokio::test]
    async fn request_checks_points_against_balance_and_payable() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        m.points.expect_balance().returning(|_| Ok(won(100_000)));
        m.payments.expect_prepare().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.request(USER, request(&order, None, 200_000)).await,
            Err(RequestPaymentError::InsufficientPoints { .. })
        ));
        assert!(matches!(
            payments.request(USER, request(&order, None, 13_001)).await,
            Err(RequestPaymentError::PointsExceedPayable { payable }) if payable == won(13_000)
        ));
    }

    #[tokio::test]
    async fn request_on_another_users_order_is_not_found() {
        let mut m = Mocks::new();
        let mut order = created_order(&[(1, 10_000, 1)]);
        order.user_id = OTHER_USER;
        with_order(&mut m, &order);
        m.payments.expect_prepare().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.request(USER, request(&order, None, 0)).await,
            Err(RequestPaymentError::OrderNotFound)
        ));
    }

    // ---- confirm ----

    fn ready_payment_mocks(m: &mut Mocks, order: &Order, amount: i64) {
        let ready = payment_for(order, PaymentStatus::Ready, amount);
        m.payments
            .expect_latest_for_order()
            .times(1)
            .returning(move |_| Ok(Some(ready.clone())));
    }

    #[tokio::test]
    async fn confirm_reserves_calls_the_gateway_once_and_approves() {
        let mut m = Mocks::new();
        let order = created_order(&[(2, 10_000, 1), (1, 5_000, 2)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 23_000);
        let confirming = payment_for(&order, PaymentStatus::Confirming, 23_000);
        m.payments
            .expect_reserve()
            .withf(|r| {
                r.stock
                    == vec![
                        (ProductId::new(1), crate::model::Quantity::new(2).unwrap()),
                        (ProductId::new(2), crate::model::Quantity::new(1).unwrap()),
                    ]
                    && r.payment_key.as_str() == "pk_1"
            })
            .times(1)
            .returning(move |_| Ok(confirming.clone()));
        let order_key = order.key;
        m.gateway
            .expect_confirm()
            .withf(move |c| {
                c.amount == won(23_000) && c.idempotency_key == format!("confirm-{order_key}-500")
            })
            .times(1)
            .returning(|_| {
                GatewayOutcome::Approved(GatewayApproval {
                    method: "카드".into(),
                    approved_at: now(),
                })
            });
        m.payments
            .expect_approve()
            .withf(|a| {
                a.earned_point == won(230)
                    && a.cart_item_ids == vec![crate::model::CartItemId::new(31)]
            })
            .times(1)
            .returning(|_| Ok(()));
        let approved = payment_for(&order, PaymentStatus::Approved, 23_000);
        m.payments
            .expect_latest_for_order()
            .returning(move |_| Ok(Some(approved.clone())));
        m.payments.expect_release().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        let outcome = payments
            .confirm(USER, order.key, key("pk_1"), won(23_000))
            .await
            .unwrap();
        assert!(matches!(outcome, ConfirmOutcome::Paid(_)));
    }

    #[tokio::test]
    async fn confirm_with_a_different_amount_changes_nothing() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 13_000);
        m.payments.expect_reserve().never();
        m.gateway.expect_confirm().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        let err = payments
            .confirm(USER, order.key, key("pk_1"), won(12_999))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConfirmPaymentError::AmountMismatch { expected, actual }
            if expected == won(13_000) && actual == won(12_999))
        );
    }

    #[tokio::test]
    async fn reservation_conflicts_are_typed_and_skip_the_gateway() {
        type Expectation = fn(&ConfirmPaymentError) -> bool;
        let cases: Vec<(ReserveError, Expectation)> = vec![
            (
                ReserveError::OutOfStock {
                    product_id: ProductId::new(1),
                },
                |e| matches!(e, ConfirmPaymentError::OutOfStock { product_id } if *product_id == ProductId::new(1)),
            ),
            (ReserveError::CouponUnavailable, |e| {
                matches!(e, ConfirmPaymentError::CouponUnavailable)
            }),
            (ReserveError::InsufficientPoints, |e| {
                matches!(e, ConfirmPaymentError::InsufficientPoints)
            }),
            (ReserveError::OrderExpired, |e| {
                matches!(e, ConfirmPaymentError::OrderExpired)
            }),
            (ReserveError::OrderNotPayable(OrderStatus::Expired), |e| {
                matches!(
                    e,
                    ConfirmPaymentError::OrderNotPayable(OrderStatus::Expired)
                )
            }),
        ];
        for (error, expected) in cases {
            let mut m = Mocks::new();
            let order = created_order(&[(1, 10_000, 1)]);
            with_order(&mut m, &order);
            ready_payment_mocks(&mut m, &order, 13_000);
            let mut error = Some(error);
            m.payments
                .expect_reserve()
                .times(1)
                .returning(move |_| Err(error.take().unwrap()));
            m.gateway.expect_confirm().never();
            let payments = Payments::new(&m.ports(), Policies::default());
            let err = payments
                .confirm(USER, order.key, key("pk_1"), won(13_000))
                .await
                .unwrap_err();
            assert!(expected(&err), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_decline_releases_what_was_reserved() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 13_000);
        let mut confirming = payment_for(&order, PaymentStatus::Confirming, 13_000);
        confirming.owned_coupon_id = Some(OwnedCouponId::new(4));
        confirming.used_point = won(500);
        m.payments
            .expect_reserve()
            .returning(move |_| Ok(confirming.clone()));
        m.gateway.expect_confirm().times(1).returning(|_| {
            GatewayOutcome::Declined(PaymentFailure {
                code: "REJECT_CARD_PAYMENT".into(),
                message: "한도초과".into(),
            })
        });
        m.payments
            .expect_release()
            .withf(|r| {
                r.owned_coupon_id == Some(OwnedCouponId::new(4))
                    && r.used_point == won(500)
                    && r.stock.len() == 1
                    && r.failure.code == "REJECT_CARD_PAYMENT"
            })
            .times(1)
            .returning(|_| Ok(()));
        m.payments.expect_approve().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        let err = payments
            .confirm(USER, order.key, key("pk_1"), won(13_000))
            .await
            .unwrap_err();
        assert!(matches!(err, ConfirmPaymentError::Declined(f) if f.message == "한도초과"));
    }

    #[tokio::test]
    async fn an_unknown_outcome_leaves_the_payment_confirming() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 13_000);
        let confirming = payment_for(&order, PaymentStatus::Confirming, 13_000);
        m.payments
            .expect_reserve()
            .returning(move |_| Ok(confirming.clone()));
        m.gateway
            .expect_confirm()
            .times(1)
            .returning(|_| GatewayOutcome::Unknown("timeout".into()));
        m.payments.expect_approve().never();
        m.payments.expect_release().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        let outcome = payments
            .confirm(USER, order.key, key("pk_1"), won(13_000))
            .await
            .unwrap();
        assert_eq!(outcome, ConfirmOutcome::Pending);
    }

    #[tokio::test]
    async fn a_repeated_confirm_answers_from_state_without_calling_the_gateway() {
        for (status, expect_paid) in [
            (PaymentStatus::Confirming, false),
            (PaymentStatus::Approved, true),
        ] {
            let mut m = Mocks::new();
            let mut order = created_order(&[(1, 10_000, 1)]);
            if expect_paid {
                order.status = OrderStatus::Paid;
            }
            with_order(&mut m, &order);
            let current = payment_for(&order, status, 13_000);
            m.payments
                .expect_latest_for_order()
                .returning(move |_| Ok(Some(current.clone())));
            m.payments.expect_reserve().never();
            m.gateway.expect_confirm().never();
            let payments = Payments::new(&m.ports(), Policies::default());
            let outcome = payments
                .confirm(USER, order.key, key("pk_1"), won(13_000))
                .await
                .unwrap();
            assert_eq!(matches!(outcome, ConfirmOutcome::Paid(_)), expect_paid);
        }
    }

    #[tokio::test]
    async fn a_confirm_that_lost_the_race_answers_with_the_winners_state() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 13_000);
        let winner = payment_for(&order, PaymentStatus::Confirming, 13_000);
        m.payments
            .expect_reserve()
            .returning(move |_| Err(ReserveError::PaymentChanged(Box::new(winner.clone()))));
        m.gateway.expect_confirm().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert_eq!(
            payments
                .confirm(USER, order.key, key("pk_1"), won(13_000))
                .await
                .unwrap(),
            ConfirmOutcome::Pending
        );
    }

    #[tokio::test]
    async fn a_points_only_order_is_approved_without_the_gateway() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 0);
        let confirming = payment_for(&order, PaymentStatus::Confirming, 0);
        m.payments
            .expect_reserve()
            .returning(move |_| Ok(confirming.clone()));
        m.gateway.expect_confirm().never();
        m.payments
            .expect_approve()
            .withf(|a| a.method == POINTS_ONLY_METHOD)
            .times(1)
            .returning(|_| Ok(()));
        let approved = payment_for(&order, PaymentStatus::Approved, 0);
        m.payments
            .expect_latest_for_order()
            .returning(move |_| Ok(Some(approved.clone())));
        let payments = Payments::new(&m.ports(), Policies::default());
        let outcome = payments
            .confirm(USER, order.key, key("any"), Money::ZERO)
            .await
            .unwrap();
        assert!(matches!(outcome, ConfirmOutcome::Paid(_)));
    }

    // ---- failure redirect ----

    #[tokio::test]
    async fn the_failure_redirect_fails_a_ready_payment() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        ready_payment_mocks(&mut m, &order, 13_000);
        m.payments
            .expect_record_failure()
            .withf(|_, f, _| f.code == "PAY_PROCESS_CANCELED")
            .times(1)
            .returning(|_, _, _| Ok(()));
        let failed = payment_for(&order, PaymentStatus::Failed, 13_000);
        m.payments
            .expect_find()
            .returning(move |_| Ok(Some(failed.clone())));
        let payments = Payments::new(&m.ports(), Policies::default());
        let failure = PaymentFailure {
            code: "PAY_PROCESS_CANCELED".into(),
            message: "사용자 취소".into(),
        };
        let payment = payments
            .record_failure(USER, order.key, failure)
            .await
            .unwrap();
        assert_eq!(payment.status, PaymentStatus::Failed);
    }

    // ---- cancel ----

    #[tokio::test]
    async fn cancelling_an_unpaid_order_needs_no_gateway() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        m.orders
            .expect_cancel_unpaid()
            .times(1)
            .returning(|_, _| Ok(()));
        m.payments.expect_latest_for_order().returning(|_| Ok(None));
        m.gateway.expect_cancel().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "changed my mind").await,
            Ok(CancelOutcomeView::Canceled(_))
        ));
    }

    #[tokio::test]
    async fn cancelling_while_a_payment_is_confirming_is_refused() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        with_order(&mut m, &order);
        m.orders
            .expect_cancel_unpaid()
            .returning(|_, _| Err(CancelUnpaidError::PaymentInProgress));
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "x").await,
            Err(CancelOrderError::PaymentInProgress)
        ));
    }

    fn paid_order() -> Order {
        let mut order = created_order(&[(1, 10_000, 1)]);
        order.status = OrderStatus::Paid;
        order.amounts.earned_point = won(130);
        order
    }

    #[tokio::test]
    async fn cancelling_a_paid_order_refunds_and_restores_everything() {
        let mut m = Mocks::new();
        let order = paid_order();
        with_order(&mut m, &order);
        let mut approved = payment_for(&order, PaymentStatus::Approved, 13_000);
        approved.owned_coupon_id = Some(OwnedCouponId::new(4));
        approved.used_point = won(1_000);
        let mut canceling = approved.clone();
        canceling.status = PaymentStatus::Canceling;
        canceling.cancel_amount = Some(won(12_950));
        canceling.revoked_point = won(80);
        m.payments
            .expect_latest_for_order()
            .times(1)
            .returning(move |_| Ok(Some(approved.clone())));
        m.payments
            .expect_begin_cancel()
            .withf(|s| s.earned_point == won(130))
            .times(1)
            .returning(move |_| Ok(canceling.clone()));
        let order_key = order.key;
        m.gateway
            .expect_cancel()
            .withf(move |c| {
                c.amount == won(12_950) && c.idempotency_key == format!("cancel-{order_key}-500")
            })
            .times(1)
            .returning(|_| CancelOutcome::Canceled);
        m.payments
            .expect_complete_cancel()
            .withf(|c| {
                c.owned_coupon_id == Some(OwnedCouponId::new(4))
                    && c.used_point == won(1_000)
                    && c.stock.len() == 1
            })
            .times(1)
            .returning(|_| Ok(()));
        let done = payment_for(&order, PaymentStatus::Canceled, 13_000);
        m.payments
            .expect_latest_for_order()
            .returning(move |_| Ok(Some(done.clone())));
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "x").await,
            Ok(CancelOutcomeView::Canceled(_))
        ));
    }

    #[tokio::test]
    async fn a_refused_refund_puts_the_payment_back_and_credits_the_points() {
        let mut m = Mocks::new();
        let order = paid_order();
        with_order(&mut m, &order);
        let approved = payment_for(&order, PaymentStatus::Approved, 13_000);
        let mut canceling = approved.clone();
        canceling.status = PaymentStatus::Canceling;
        canceling.revoked_point = won(130);
        m.payments
            .expect_latest_for_order()
            .times(1)
            .returning(move |_| Ok(Some(approved.clone())));
        m.payments
            .expect_begin_cancel()
            .returning(move |_| Ok(canceling.clone()));
        m.gateway.expect_cancel().returning(|_| {
            CancelOutcome::Rejected(PaymentFailure {
                code: "NOT_CANCELABLE_PAYMENT".into(),
                message: "no".into(),
            })
        });
        m.payments
            .expect_reject_cancel()
            .withf(|r| r.revoked_point == won(130))
            .times(1)
            .returning(|_| Ok(()));
        m.payments.expect_complete_cancel().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "x").await,
            Err(CancelOrderError::Rejected(_))
        ));
    }

    #[tokio::test]
    async fn an_unknown_refund_outcome_is_pending() {
        let mut m = Mocks::new();
        let order = paid_order();
        with_order(&mut m, &order);
        let approved = payment_for(&order, PaymentStatus::Approved, 13_000);
        let mut canceling = approved.clone();
        canceling.status = PaymentStatus::Canceling;
        m.payments
            .expect_latest_for_order()
            .returning(move |_| Ok(Some(approved.clone())));
        m.payments
            .expect_begin_cancel()
            .returning(move |_| Ok(canceling.clone()));
        m.gateway
            .expect_cancel()
            .returning(|_| CancelOutcome::Unknown("503".into()));
        m.payments.expect_complete_cancel().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert_eq!(
            payments.cancel(USER, order.key, "x").await.unwrap(),
            CancelOutcomeView::Pending
        );
    }

    #[tokio::test]
    async fn an_expired_order_cannot_be_canceled() {
        let mut m = Mocks::new();
        let mut order = created_order(&[(1, 10_000, 1)]);
        order.status = OrderStatus::Expired;
        with_order(&mut m, &order);
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "x").await,
            Err(CancelOrderError::NotCancelable(OrderStatus::Expired))
        ));
    }

    #[tokio::test]
    async fn cancelling_a_canceled_order_answers_it_again_without_the_gateway() {
        let mut m = Mocks::new();
        let mut order = paid_order();
        order.status = OrderStatus::Canceled;
        with_order(&mut m, &order);
        let canceled = payment_for(&order, PaymentStatus::Canceled, 13_000);
        m.payments
            .expect_latest_for_order()
            .returning(move |_| Ok(Some(canceled.clone())));
        m.payments.expect_begin_cancel().never();
        m.gateway.expect_cancel().never();
        let payments = Payments::new(&m.ports(), Policies::default());
        assert!(matches!(
            payments.cancel(USER, order.key, "x").await,
            Ok(CancelOutcomeView::Canceled(_))
        ));
    }

    // ---- reconciler ----

    #[tokio::test]
    async fn the_reconciler_settles_each_pending_payment_by_asking_the_gateway() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        let paid = paid_order();
        let found = order.clone();
        let found_paid = paid.clone();
        m.orders.expect_find_by_id().returning(move |id| {
            Ok(Some(if id.value() == 100 {
                found.clone()
            } else {
                found_paid.clone()
            }))
        });
        let mut approved_at_pg = payment_for(&order, PaymentStatus::Confirming, 13_000);
        approved_at_pg.id = crate::model::PaymentId::new(1);
        let mut declined_at_pg = approved_at_pg.clone();
        declined_at_pg.id = crate::model::PaymentId::new(2);
        let mut never_sent = approved_at_pg.clone();
        never_sent.id = crate::model::PaymentId::new(3);
        let mut refund = payment_for(&paid, PaymentStatus::Canceling, 13_000);
        refund.id = crate::model::PaymentId::new(4);
        refund.order_id = crate::model::OrderId::new(101);
        let claimed = vec![approved_at_pg, declined_at_pg, never_sent, refund];
        m.payments
            .expect_claim_pending()
            .returning(move |_, _, _| Ok(claimed.clone()));
        let mut lookups = vec![
            LookupOutcome::Approved(GatewayApproval {
                method: "카드".into(),
                approved_at: now(),
            }),
            LookupOutcome::Declined(PaymentFailure {
                code: "REJECT_CARD_PAYMENT".into(),
                message: "no".into(),
            }),
            LookupOutcome::NotConfirmed,
            LookupOutcome::Canceled,
        ];
        m.gateway
            .expect_lookup()
            .times(4)
            .returning(move |_| lookups.remove(0));
        // The confirm that never reached the gateway is sent again with the same idempotency key.
        m.gateway
            .expect_confirm()
            .withf(|c| c.idempotency_key.ends_with("-3"))
            .times(1)
            .returning(|_| {
                GatewayOutcome::Approved(GatewayApproval {
                    method: "카드".into(),
                    approved_at: now(),
                })
            });
        m.payments.expect_approve().times(2).returning(|_| Ok(()));
        m.payments.expect_release().times(1).returning(|_| Ok(()));
        m.payments
            .expect_complete_cancel()
            .times(1)
            .returning(|_| Ok(()));
        let payments = Payments::new(&m.ports(), Policies::default());
        let report = payments
            .reconcile_pending(Duration::seconds(30), 50)
            .await
            .unwrap();
        assert_eq!(
            report,
            ReconcileReport {
                approved: 2,
                declined: 1,
                canceled: 1,
                cancel_rejected: 0,
                still_pending: 0,
                errors: 0
            }
        );
    }

    #[tokio::test]
    async fn the_reconciler_retries_a_refund_the_gateway_never_got() {
        let mut m = Mocks::new();
        let paid = paid_order();
        let found = paid.clone();
        m.orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(found.clone())));
        let mut refund = payment_for(&paid, PaymentStatus::Canceling, 13_000);
        refund.cancel_amount = Some(won(13_000));
        m.payments
            .expect_claim_pending()
            .returning(move |_, _, _| Ok(vec![refund.clone()]));
        m.gateway.expect_lookup().returning(|_| {
            LookupOutcome::Approved(GatewayApproval {
                method: "카드".into(),
                approved_at: now(),
            })
        });
        let order_key = paid.key;
        m.gateway
            .expect_cancel()
            .withf(move |c| c.idempotency_key == format!("cancel-{order_key}-500"))
            .times(1)
            .returning(|_| CancelOutcome::Canceled);
        m.payments
            .expect_complete_cancel()
            .times(1)
            .returning(|_| Ok(()));
        let payments = Payments::new(&m.ports(), Policies::default());
        let report = payments
            .reconcile_pending(Duration::seconds(30), 50)
            .await
            .unwrap();
        assert_eq!(report.canceled, 1);
    }

    #[tokio::test]
    async fn the_reconciler_leaves_unknowns_pending_and_ignores_lost_races() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 10_000, 1)]);
        let found = order.clone();
        m.orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(found.clone())));
        let first = payment_for(&order, PaymentStatus::Confirming, 13_000);
        let mut second = first.clone();
        second.id = crate::model::PaymentId::new(501);
        m.payments
            .expect_claim_pending()
            .returning(move |_, _, _| Ok(vec![first.clone(), second.clone()]));
        let mut lookups = vec![
            LookupOutcome::Unknown("503".into()),
            LookupOutcome::Approved(GatewayApproval {
                method: "카드".into(),
                approved_at: now(),
            }),
        ];
        m.gateway
            .expect_lookup()
            .returning(move |_| lookups.remove(0));
        m.payments
            .expect_approve()
            .returning(|_| Err(SettleError::Lost(PaymentStatus::Approved)));
        let payments = Payments::new(&m.ports(), Policies::default());
        let report = payments
            .reconcile_pending(Duration::seconds(30), 50)
            .await
            .unwrap();
        assert_eq!(report.still_pending, 1);
        assert_eq!(report.approved, 0);
        assert_eq!(report.errors, 0);
    }
}
