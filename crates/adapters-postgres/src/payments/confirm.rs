//! Confirmation: the reservation (step a) and the gateway's answer (steps c and d), plus the
//! buyer's failure redirect.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::model::{
    OrderStatus, OwnedCouponStatus, Payment, PaymentFailure, PaymentId, PaymentStatus,
    PointEntryKind,
};
use domain::ports::{Approval, DomainEvent, Release, Reservation, ReserveError, SettleError};
use time::OffsetDateTime;

use crate::error::TxError;
use crate::outbox::write_events;
use crate::points::{Change, credit, debit};
use crate::prepared::prepared_sql;
use crate::rows::{PaymentRow, money, order_status};
use crate::schema::{cart_items, coupons, orders, owned_coupons, payments};

use super::holdings::{restore_stock, return_coupon, take_stock};
use super::{PaidRow, find_payment, lost};

/// What the reservation's compare-and-sets did: whether the order was flagged, and the payment
/// if it moved to CONFIRMING (its columns are all NULL otherwise).
#[derive(QueryableByName)]
struct Reserved {
    #[diesel(sql_type = Bool)]
    order_flagged: bool,
    #[diesel(embed)]
    payment: Option<PaymentRow>,
}

pub(super) async fn reserve(
    conn: &mut AsyncPgConnection,
    r: &Reservation,
) -> Result<Payment, TxError<ReserveError>> {
    let order = r.order_id.value();
    // One statement, two compare-and-sets, the order row locked first:
    // - `flagged`: the order row carries "a payment is being confirmed"; the expiry job and
    //   buyer cancellation update this same row, so they cannot miss it (see the orders
    //   migration). It also serialises concurrent confirmations of one order.
    // - `confirming`: the payment READY → CONFIRMING, only if the order was flagged (it joins
    //   `flagged`, so the payment row is locked after the order row).
    // The answer is always one row saying which of the two happened, so a refusal is diagnosed
    // exactly as when they were two statements. (`confirming.*` is the column list it returns:
    // prepared statements must name their columns, see `prepared.rs`.)
    let reserved: Reserved = prepared_sql(
        "WITH flagged AS ( \
             UPDATE orders SET payment_in_progress = true, updated_at = $3 \
             WHERE id = $1 AND status = 'CREATED' AND expires_at > $3 \
               AND NOT payment_in_progress \
             RETURNING id), \
         confirming AS ( \
             UPDATE payments p SET status = 'CONFIRMING', payment_key = $4, \
                 updated_at = $3, checked_at = $3 \
             FROM flagged \
             WHERE p.id = $2 AND p.order_id = flagged.id AND p.status = 'READY' \
             RETURNING p.id, p.order_id, p.status, p.origin_amount, p.owned_coupon_id, \
                 p.coupon_discount, p.used_point, p.shipping_fee, p.amount, p.payment_key, \
                 p.method, p.approved_at, p.failure_code, p.failure_message, p.cancel_amount, \
                 p.revoked_point, p.created_at, p.updated_at) \
         SELECT EXISTS (SELECT 1 FROM flagged) AS order_flagged, confirming.* \
         FROM (SELECT 1) AS one LEFT JOIN confirming ON true",
    )
    .bind::<BigInt, _>(order)
    .bind::<BigInt, _>(r.payment_id.value())
    .bind::<Timestamptz, _>(r.now)
    .bind::<Text, _>(r.payment_key.as_str())
    .get_result(conn)
    .await?;
    let confirming = match reserved {
        Reserved {
            order_flagged: true,
            payment: Some(confirming),
        } => confirming,
        Reserved {
            order_flagged: true,
            payment: None,
        } => return Err(payment_changed(conn, r).await?),
        Reserved {
            order_flagged: false,
            ..
        } => return Err(why_not_reservable(conn, r).await?),
    };
    if let Err(product_id) = take_stock(conn, &r.stock, r.now).await? {
        return Err(TxError::Conflict(ReserveError::OutOfStock { product_id }));
    }
    if let Some(coupon) = r.owned_coupon_id {
        let used = diesel::update(
            owned_coupons::table
                .find(coupon.value())
                .filter(owned_coupons::user_id.eq(r.user_id.value()))
                .filter(owned_coupons::status.eq(OwnedCouponStatus::Issued.as_str()))
                .filter(
                    owned_coupons::coupon_id.eq_any(
                        coupons::table
                            .filter(coupons::valid_until.ge(r.now))
                            .select(coupons::id),
                    ),
                ),
        )
        .set((
            owned_coupons::status.eq(OwnedCouponStatus::Used.as_str()),
            owned_coupons::used_order_id.eq(order),
            owned_coupons::used_at.eq(r.now),
        ))
        .execute(conn)
        .await?;
        if used == 0 {
            return Err(TxError::Conflict(ReserveError::CouponUnavailable));
        }
    }
    if !r.used_point.is_zero() {
        let change = Change {
            user: r.user_id,
            kind: PointEntryKind::Use,
            amount: r.used_point,
            order_key: Some(r.order_key),
            reason: None,
            now: r.now,
        };
        if debit(conn, change).await?.is_none() {
            return Err(TxError::Conflict(ReserveError::InsufficientPoints));
        }
    }
    Ok(confirming.into_domain()?)
}

/// The payment as it is now, after a compare-and-set on it found it no longer READY.
pub(super) async fn payment_changed(
    conn: &mut AsyncPgConnection,
    r: &Reservation,
) -> QueryResult<TxError<ReserveError>> {
    let Some(row) = find_payment(conn, r.payment_id.value()).await? else {
        return Ok(TxError::Other(anyhow::anyhow!(
            "payment {} not found",
            r.payment_id
        )));
    };
    if row.order_id != r.order_id.value() {
        return Ok(TxError::Other(anyhow::anyhow!(
            "payment {} is not a payment of order {}",
            r.payment_id,
            r.order_id
        )));
    }
    Ok(match row.into_domain() {
        Ok(payment) => TxError::Conflict(ReserveError::PaymentChanged(Box::new(payment))),
        Err(e) => TxError::Other(e),
    })
}

/// Why the order refused the reservation. A payment that moved on is the most useful answer
/// (a second confirm of a paid order answers "paid", not "not payable"), so it is checked first.
pub(super) async fn why_not_reservable(
    conn: &mut AsyncPgConnection,
    r: &Reservation,
) -> QueryResult<TxError<ReserveError>> {
    let payment: Option<String> = payments::table
        .find(r.payment_id.value())
        .select(payments::status)
        .first(conn)
        .await
        .optional()?;
    if payment.is_some_and(|status| status != PaymentStatus::Ready.as_str()) {
        return payment_changed(conn, r).await;
    }
    let order: Option<(String, OffsetDateTime)> = orders::table
        .find(r.order_id.value())
        .select((orders::status, orders::expires_at))
        .first(conn)
        .await
        .optional()?;
    Ok(match order {
        None => TxError::Other(anyhow::anyhow!("order {} not found", r.order_id)),
        Some((status, _)) if status != OrderStatus::Created.as_str() => {
            match order_status(&status) {
                Ok(status) => TxError::Conflict(ReserveError::OrderNotPayable(status)),
                Err(e) => TxError::Other(e),
            }
        }
        Some((_, expires_at)) if expires_at <= r.now => {
            TxError::Conflict(ReserveError::OrderExpired)
        }
        Some(_) => TxError::Other(anyhow::anyhow!(
            "order {} has a payment being confirmed while payment {} is READY",
            r.order_id,
            r.payment_id
        )),
    })
}

pub(super) async fn approve(
    conn: &mut AsyncPgConnection,
    a: &Approval,
) -> Result<(), TxError<SettleError>> {
    // Both compare-and-sets in one statement, the order row locked first: `paid` moves the
    // order to PAID with the payment's amounts (joined, so only while the payment is
    // CONFIRMING), then the payment moves CONFIRMING → APPROVED. Either one finding nothing to
    // change means the same thing, `lost`, as when they were two statements.
    let paid: Option<PaidRow> = prepared_sql(
        "WITH paid AS ( \
             UPDATE orders o SET status = 'PAID', payment_in_progress = false, \
                 coupon_discount = p.coupon_discount, used_point = p.used_point, \
                 shipping_fee = p.shipping_fee, paid_amount = p.amount, earned_point = $3, \
                 paid_at = $4, updated_at = $5 \
             FROM payments p \
             WHERE o.id = $1 AND p.id = $2 AND p.order_id = o.id AND p.status = 'CONFIRMING' \
               AND o.status = 'CREATED' AND o.payment_in_progress \
             RETURNING p.id, p.amount) \
         UPDATE payments SET status = 'APPROVED', method = $6, approved_at = $4, \
             updated_at = $5, checked_at = $5 \
         FROM paid \
         WHERE payments.id = paid.id AND payments.status = 'CONFIRMING' \
         RETURNING paid.amount AS paid_amount",
    )
    .bind::<BigInt, _>(a.order_id.value())
    .bind::<BigInt, _>(a.payment_id.value())
    .bind::<BigInt, _>(a.earned_point.won())
    .bind::<Timestamptz, _>(a.approved_at)
    .bind::<Timestamptz, _>(a.now)
    .bind::<Text, _>(&a.method)
    .get_result(conn)
    .await
    .optional()?;
    let Some(paid) = paid else {
        return Err(lost(conn, a.payment_id, PaymentStatus::Confirming).await?);
    };
    if !a.earned_point.is_zero() {
        let change = Change {
            user: a.user_id,
            kind: PointEntryKind::Earn,
            amount: a.earned_point,
            order_key: Some(a.order_key),
            reason: None,
            now: a.now,
        };
        credit(conn, change).await?;
    }
    if !a.cart_item_ids.is_empty() {
        let ids: Vec<i64> = a.cart_item_ids.iter().map(|id| id.value()).collect();
        diesel::delete(
            cart_items::table
                .filter(cart_items::user_id.eq(a.user_id.value()))
                .filter(cart_items::id.eq_any(ids)),
        )
        .execute(conn)
        .await?;
    }
    let event = DomainEvent::OrderPaid {
        order_key: a.order_key,
        user_id: a.user_id,
        paid_amount: money(paid.paid_amount, "paid amount")?,
    };
    write_events(conn, &[event], a.now).await
}

pub(super) async fn release(
    conn: &mut AsyncPgConnection,
    r: &Release,
) -> Result<(), TxError<SettleError>> {
    // Both compare-and-sets in one statement, the order row locked first: the order loses its
    // "payment in progress" flag, then the payment moves CONFIRMING → FAILED. Either one
    // finding nothing to change means `lost`, as when they were two statements.
    let failed = prepared_sql(
        "WITH unflagged AS ( \
             UPDATE orders SET payment_in_progress = false, updated_at = $3 \
             WHERE id = $1 AND payment_in_progress \
             RETURNING id) \
         UPDATE payments p SET status = 'FAILED', failure_code = $4, failure_message = $5, \
             updated_at = $3, checked_at = $3 \
         FROM unflagged \
         WHERE p.id = $2 AND p.order_id = unflagged.id AND p.status = 'CONFIRMING'",
    )
    .bind::<BigInt, _>(r.order_id.value())
    .bind::<BigInt, _>(r.payment_id.value())
    .bind::<Timestamptz, _>(r.now)
    .bind::<Text, _>(&r.failure.code)
    .bind::<Text, _>(&r.failure.message)
    .execute(conn)
    .await?;
    if failed == 0 {
        return Err(lost(conn, r.payment_id, PaymentStatus::Confirming).await?);
    }
    restore_stock(conn, &r.stock, r.now).await?;
    return_coupon(conn, r.owned_coupon_id, r.order_id).await?;
    if !r.used_point.is_zero() {
        let change = Change {
            user: r.user_id,
            kind: PointEntryKind::Refund,
            amount: r.used_point,
            order_key: Some(r.order_key),
            reason: None,
            now: r.now,
        };
        credit(conn, change).await?;
    }
    Ok(())
}

pub(super) async fn record_failure(
    conn: &mut AsyncPgConnection,
    payment: PaymentId,
    failure: &PaymentFailure,
    now: OffsetDateTime,
) -> Result<(), TxError<SettleError>> {
    let failed = diesel::update(
        payments::table
            .find(payment.value())
            .filter(payments::status.eq(PaymentStatus::Ready.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Failed.as_str()),
        payments::failure_code.eq(&failure.code),
        payments::failure_message.eq(&failure.message),
        payments::updated_at.eq(now),
        payments::checked_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if failed == 0 {
        return Err(lost(conn, payment, PaymentStatus::Ready).await?);
    }
    Ok(())
}
