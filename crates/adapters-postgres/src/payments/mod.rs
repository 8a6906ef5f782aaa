//! Payments and the multi-table changes around them ([`PaymentRepository`]).
//!
//! Each method is one transaction that locks rows in one order: the order row first (the
//! conditional update of `orders` doubles as the lock), then the payment, then products in id
//! order, then the owned coupon, then the point balance. A step that finds nothing to change
//! returns a typed conflict out of the transaction, which rolls every earlier step back.

mod cancel;
mod confirm;
mod holdings;
mod prepare;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{OrderId, Payment, PaymentFailure, PaymentId, PaymentStatus};
use domain::ports::{
    Approval, BeginCancelError, CancelCompletion, CancelRejection, CancelStart, PaymentRepository,
    PaymentRequest, PreparePaymentError, Release, Reservation, ReserveError, SettleError,
};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::rows::{PaymentRow, payment_status};
use crate::schema::payments;
use crate::store::PgStore;

use cancel::{begin_cancel, complete_cancel, reject_cancel};
use confirm::{approve, record_failure, release, reserve};
use prepare::prepare;

#[derive(Insertable)]
#[diesel(table_name = payments)]
struct NewPaymentRow {
    order_id: i64,
    status: &'static str,
    origin_amount: i64,
    owned_coupon_id: Option<i64>,
    coupon_discount: i64,
    used_point: i64,
    shipping_fee: i64,
    amount: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    checked_at: OffsetDateTime,
}

/// A READY payment's priced amounts, rewritten when the buyer requests payment again.
#[derive(AsChangeset)]
#[diesel(table_name = payments, treat_none_as_null = true)]
struct PaymentAmounts {
    origin_amount: i64,
    owned_coupon_id: Option<i64>,
    coupon_discount: i64,
    used_point: i64,
    shipping_fee: i64,
    amount: i64,
    updated_at: OffsetDateTime,
    checked_at: OffsetDateTime,
}

#[derive(QueryableByName)]
struct PaidRow {
    #[diesel(sql_type = BigInt)]
    paid_amount: i64,
}

async fn find_payment(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A compare-and-set found the payment elsewhere than `expected`: `Lost` with where it is.
/// Finding it at `expected` after all means the order row disagreed with the payment, which the
/// schema's invariants rule out: reported as an error, not a conflict.
async fn lost<E: From<SettleError>>(
    conn: &mut AsyncPgConnection,
    payment: PaymentId,
    expected: PaymentStatus,
) -> Result<TxError<E>, TxError<E>> {
    let status: Option<String> = payments::table
        .find(payment.value())
        .select(payments::status)
        .first(conn)
        .await
        .optional()?;
    let Some(status) = status else {
        return Ok(TxError::Other(anyhow::anyhow!(
            "payment {payment} not found"
        )));
    };
    let status = payment_status(&status)?;
    Ok(if status == expected {
        TxError::Other(anyhow::anyhow!(
            "payment {payment} is {status:?} but its order is not in the matching state"
        ))
    } else {
        TxError::Conflict(E::from(SettleError::Lost(status)))
    })
}

#[async_trait]
impl PaymentRepository for PgStore {
    async fn prepare(&self, request: PaymentRequest) -> Result<Payment, PreparePaymentError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| prepare(conn, &request).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn latest_for_order(&self, order: OrderId) -> anyhow::Result<Option<Payment>> {
        let mut conn = self.db.conn().await?;
        let row = payments::table
            .filter(payments::order_id.eq(order.value()))
            .order(payments::id.desc())
            .select(PaymentRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        row.map(PaymentRow::into_domain).transpose()
    }

    async fn find(&self, id: PaymentId) -> anyhow::Result<Option<Payment>> {
        let mut conn = self.db.conn().await?;
        let row = find_payment(&mut conn, id.value())
            .await
            .map_err(db_error)?;
        row.map(PaymentRow::into_domain).transpose()
    }

    async fn reserve(&self, reservation: Reservation) -> Result<Payment, ReserveError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| reserve(conn, &reservation).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn approve(&self, approval: Approval) -> Result<(), SettleError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| approve(conn, &approval).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn release(&self, release: Release) -> Result<(), SettleError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| self::release(conn, &release).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn record_failure(
        &self,
        payment: PaymentId,
        failure: PaymentFailure,
        now: OffsetDateTime,
    ) -> Result<(), SettleError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| record_failure(conn, payment, &failure, now).await)
            .await
            .map_err(TxError::into_port_error)
    }

    /// Claims by moving `checked_at` to `now` under `FOR UPDATE SKIP LOCKED`: another instance
    /// skips rows being claimed, and afterwards finds them fresh. (A MATERIALIZED CTE, as in
    /// the expiry job, so the limit holds.)
    async fn claim_pending(
        &self,
        stale_before: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Vec<Payment>> {
        let mut conn = self.db.conn().await?;
        let mut rows: Vec<PaymentRow> = diesel::sql_query(
            "WITH stale AS MATERIALIZED ( \
                 SELECT id FROM payments \
                 WHERE status IN ('CONFIRMING', 'CANCELING') AND checked_at < $2 \
                 ORDER BY checked_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             UPDATE payments p SET checked_at = $1 FROM stale WHERE p.id = stale.id \
             RETURNING p.*",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(stale_before)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(db_error)?;
        rows.sort_by_key(|row| row.id);
        rows.into_iter().map(PaymentRow::into_domain).collect()
    }

    async fn begin_cancel(&self, start: CancelStart) -> Result<Payment, BeginCancelError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| begin_cancel(conn, &start).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn complete_cancel(&self, completion: CancelCompletion) -> Result<(), SettleError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| complete_cancel(conn, &completion).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn reject_cancel(&self, rejection: CancelRejection) -> Result<(), SettleError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| reject_cancel(conn, &rejection).await)
            .await
            .map_err(TxError::into_port_error)
    }
}
