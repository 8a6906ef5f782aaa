//! Cancelling a paid order: the start (points revoked, refund computed), and the gateway's
//! answer (refunded, or refused).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::model::{OrderStatus, Payment, PaymentStatus, PointEntryKind};
use domain::ports::{
    BeginCancelError, CancelCompletion, CancelRejection, CancelStart, DomainEvent, SettleError,
};
use domain::usecases::refund_after_revoke;

use crate::error::TxError;
use crate::outbox::write_events;
use crate::points::{Change, credit, debit_up_to};
use crate::rows::{PaymentRow, money, order_status, payment_status};
use crate::schema::{orders, payments};

use super::holdings::{restore_stock, return_coupon};
use super::lost;

pub(super) async fn begin_cancel(
    conn: &mut AsyncPgConnection,
    start: &CancelStart,
) -> Result<Payment, TxError<BeginCancelError>> {
    let status: Option<String> = orders::table
        .find(start.order_id.value())
        .select(orders::status)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(status) = status else {
        return Err(TxError::Other(anyhow::anyhow!(
            "order {} not found",
            start.order_id
        )));
    };
    if status != OrderStatus::Paid.as_str() {
        return Err(TxError::Conflict(BeginCancelError::OrderNotCancelable(
            order_status(&status)?,
        )));
    }
    let canceling: Option<PaymentRow> = diesel::update(
        payments::table
            .find(start.payment_id.value())
            .filter(payments::order_id.eq(start.order_id.value()))
            .filter(payments::status.eq(PaymentStatus::Approved.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Canceling.as_str()),
        payments::updated_at.eq(start.now),
        payments::checked_at.eq(start.now),
    ))
    .returning(PaymentRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(canceling) = canceling else {
        let status: Option<String> = payments::table
            .find(start.payment_id.value())
            .select(payments::status)
            .first(conn)
            .await
            .optional()?;
        return Err(match status {
            Some(status) => {
                TxError::Conflict(BeginCancelError::PaymentChanged(payment_status(&status)?))
            }
            None => TxError::Other(anyhow::anyhow!("payment {} not found", start.payment_id)),
        });
    };
    let revoked = debit_up_to(
        conn,
        Change {
            user: start.user_id,
            kind: PointEntryKind::EarnRevoke,
            amount: start.earned_point,
            order_key: Some(start.order_key),
            reason: None,
            now: start.now,
        },
    )
    .await?;
    let amount = money(canceling.amount, "payment amount")?;
    let refund = refund_after_revoke(amount, start.earned_point, revoked);
    let row: PaymentRow = diesel::update(payments::table.find(start.payment_id.value()))
        .set((
            payments::cancel_amount.eq(Some(refund.won())),
            payments::revoked_point.eq(revoked.won()),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into_domain()?)
}

pub(super) async fn complete_cancel(
    conn: &mut AsyncPgConnection,
    c: &CancelCompletion,
) -> Result<(), TxError<SettleError>> {
    let canceled: Option<i64> = diesel::update(
        orders::table
            .find(c.order_id.value())
            .filter(orders::status.eq(OrderStatus::Paid.as_str())),
    )
    .set((
        orders::status.eq(OrderStatus::Canceled.as_str()),
        orders::canceled_at.eq(c.now),
        orders::updated_at.eq(c.now),
    ))
    .returning(orders::id)
    .get_result(conn)
    .await
    .optional()?;
    if canceled.is_none() {
        return Err(lost(conn, c.payment_id, PaymentStatus::Canceling).await?);
    }
    let refunded: Option<(i64, Option<i64>)> = diesel::update(
        payments::table
            .find(c.payment_id.value())
            .filter(payments::order_id.eq(c.order_id.value()))
            .filter(payments::status.eq(PaymentStatus::Canceling.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Canceled.as_str()),
        payments::updated_at.eq(c.now),
        payments::checked_at.eq(c.now),
    ))
    .returning((payments::amount, payments::cancel_amount))
    .get_result(conn)
    .await
    .optional()?;
    let Some((amount, cancel_amount)) = refunded else {
        return Err(lost(conn, c.payment_id, PaymentStatus::Canceling).await?);
    };
    restore_stock(conn, &c.stock, c.now).await?;
    return_coupon(conn, c.owned_coupon_id, c.order_id).await?;
    if !c.used_point.is_zero() {
        let change = Change {
            user: c.user_id,
            kind: PointEntryKind::Refund,
            amount: c.used_point,
            order_key: Some(c.order_key),
            reason: None,
            now: c.now,
        };
        credit(conn, change).await?;
    }
    let event = DomainEvent::OrderCanceled {
        order_key: c.order_key,
        user_id: c.user_id,
        refunded_amount: money(cancel_amount.unwrap_or(amount), "refund")?,
    };
    write_events(conn, &[event], c.now).await
}

pub(super) async fn reject_cancel(
    conn: &mut AsyncPgConnection,
    r: &CancelRejection,
) -> Result<(), TxError<SettleError>> {
    let revoked: Option<i64> = diesel::update(
        payments::table
            .find(r.payment_id.value())
            .filter(payments::status.eq(PaymentStatus::Canceling.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Approved.as_str()),
        payments::failure_code.eq(&r.failure.code),
        payments::failure_message.eq(&r.failure.message),
        payments::updated_at.eq(r.now),
        payments::checked_at.eq(r.now),
    ))
    .returning(payments::revoked_point)
    .get_result(conn)
    .await
    .optional()?;
    let Some(revoked) = revoked else {
        return Err(lost(conn, r.payment_id, PaymentStatus::Canceling).await?);
    };
    // The stored amount is what was taken back; the row is ours until commit.
    diesel::update(payments::table.find(r.payment_id.value()))
        .set((
            payments::revoked_point.eq(0),
            payments::cancel_amount.eq(None::<i64>),
        ))
        .execute(conn)
        .await?;
    let revoked = money(revoked, "revoked points")?;
    if !revoked.is_zero() {
        let change = Change {
            user: r.user_id,
            kind: PointEntryKind::Earn,
            amount: revoked,
            order_key: Some(r.order_key),
            reason: None,
            now: r.now,
        };
        credit(conn, change).await?;
    }
    Ok(())
}
