//! Step 1 of paying: the READY payment and what it writes on the order.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Int8};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::model::{OrderId, OrderStatus, OwnedCouponId, Payment, PaymentStatus};
use domain::ports::{PaymentRequest, PreparePaymentError};

use crate::error::TxError;
use crate::rows::{LIVE_PAYMENT_STATUSES, PaymentRow, order_status, payment_status};
use crate::schema::{order_items, orders, payments};

use super::{NewPaymentRow, PaymentAmounts};

pub(super) async fn prepare(
    conn: &mut AsyncPgConnection,
    request: &PaymentRequest,
) -> Result<Payment, TxError<PreparePaymentError>> {
    let order = request.order_id.value();
    let now = request.now;
    let address = &request.shipping_address;
    // Locks the order: prepares of one order take turns, and none runs during a reservation.
    let locked: Option<i64> = diesel::update(
        orders::table
            .find(order)
            .filter(orders::status.eq(OrderStatus::Created.as_str()))
            .filter(orders::payment_in_progress.eq(false)),
    )
    .set((
        orders::ship_recipient.eq(address.recipient()),
        orders::ship_phone.eq(address.phone()),
        orders::ship_zip_code.eq(address.zip_code()),
        orders::ship_address1.eq(address.address1()),
        orders::ship_address2.eq(address.address2()),
        orders::updated_at.eq(now),
    ))
    .returning(orders::id)
    .get_result(conn)
    .await
    .optional()?;
    if locked.is_none() {
        return Err(why_not_preparable(conn, request.order_id).await?);
    }
    write_line_discounts(conn, request).await?;

    let live: Option<(i64, String)> = payments::table
        .filter(payments::order_id.eq(order))
        .filter(payments::status.eq_any(LIVE_PAYMENT_STATUSES))
        .select((payments::id, payments::status))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let row = match live {
        Some((id, status)) if status == PaymentStatus::Ready.as_str() => {
            diesel::update(payments::table.find(id))
                .set(PaymentAmounts {
                    origin_amount: request.origin_amount.won(),
                    owned_coupon_id: request.owned_coupon_id.map(OwnedCouponId::value),
                    coupon_discount: request.coupon_discount.won(),
                    used_point: request.used_point.won(),
                    shipping_fee: request.shipping_fee.won(),
                    amount: request.amount.won(),
                    updated_at: now,
                    checked_at: now,
                })
                .returning(PaymentRow::as_returning())
                .get_result(conn)
                .await?
        }
        Some((_, status)) => {
            return Err(TxError::Conflict(PreparePaymentError::PaymentInProgress(
                payment_status(&status)?,
            )));
        }
        None => {
            diesel::insert_into(payments::table)
                .values(NewPaymentRow {
                    order_id: order,
                    status: PaymentStatus::Ready.as_str(),
                    origin_amount: request.origin_amount.won(),
                    owned_coupon_id: request.owned_coupon_id.map(OwnedCouponId::value),
                    coupon_discount: request.coupon_discount.won(),
                    used_point: request.used_point.won(),
                    shipping_fee: request.shipping_fee.won(),
                    amount: request.amount.won(),
                    created_at: now,
                    updated_at: now,
                    checked_at: now,
                })
                .returning(PaymentRow::as_returning())
                .get_result(conn)
                .await?
        }
    };
    Ok(row.into_domain()?)
}

/// Each item's share of the coupon discount, in line order, in one statement.
pub(super) async fn write_line_discounts(
    conn: &mut AsyncPgConnection,
    request: &PaymentRequest,
) -> Result<(), TxError<PreparePaymentError>> {
    let order = request.order_id.value();
    let lines: i64 = order_items::table
        .filter(order_items::order_id.eq(order))
        .count()
        .get_result(conn)
        .await?;
    if usize::try_from(lines).ok() != Some(request.line_discounts.len()) {
        return Err(TxError::Other(anyhow::anyhow!(
            "order {order} has {lines} lines but {} line discounts were given",
            request.line_discounts.len()
        )));
    }
    let line_nos = (0..request.line_discounts.len())
        .map(i32::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::from)?;
    let discounts: Vec<i64> = request.line_discounts.iter().map(|d| d.won()).collect();
    diesel::sql_query(
        "UPDATE order_items i SET discount = d.discount \
         FROM unnest($2, $3) AS d(line_no, discount) \
         WHERE i.order_id = $1 AND i.line_no = d.line_no",
    )
    .bind::<BigInt, _>(order)
    .bind::<Array<Int4>, _>(line_nos)
    .bind::<Array<Int8>, _>(discounts)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn why_not_preparable(
    conn: &mut AsyncPgConnection,
    order: OrderId,
) -> QueryResult<TxError<PreparePaymentError>> {
    let found: Option<String> = orders::table
        .find(order.value())
        .select(orders::status)
        .first(conn)
        .await
        .optional()?;
    let Some(status) = found else {
        return Ok(TxError::Other(anyhow::anyhow!("order {order} not found")));
    };
    if status != OrderStatus::Created.as_str() {
        return Ok(match order_status(&status) {
            Ok(status) => TxError::Conflict(PreparePaymentError::OrderNotPayable(status)),
            Err(e) => TxError::Other(e),
        });
    }
    // CREATED but refused: a payment of it is being confirmed.
    let live: Option<String> = payments::table
        .filter(payments::order_id.eq(order.value()))
        .filter(payments::status.eq_any(LIVE_PAYMENT_STATUSES))
        .select(payments::status)
        .first(conn)
        .await
        .optional()?;
    let status = live
        .as_deref()
        .and_then(PaymentStatus::parse)
        .unwrap_or(PaymentStatus::Confirming);
    Ok(TxError::Conflict(PreparePaymentError::PaymentInProgress(
        status,
    )))
}
