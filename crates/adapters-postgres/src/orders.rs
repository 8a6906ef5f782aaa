//! Orders and their items ([`OrderRepository`]): creation, reads, buyer cancellation of an
//! unpaid order, and the expiry job.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{
    NewOrder, Order, OrderId, OrderKey, OrderStatus, OrderSummary, Page, PageLimit, PaymentStatus,
    UserId,
};
use domain::ports::{CancelUnpaidError, DomainEvent, OrderRepository};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::outbox::write_events;
use crate::rows::{OrderItemRow, OrderRow, money, order_key, order_status, quantity_column};
use crate::schema::{order_items, orders, payments};
use crate::store::PgStore;

#[derive(Insertable)]
#[diesel(table_name = orders)]
struct NewOrderRow<'a> {
    order_key: String,
    user_id: i64,
    name: &'a str,
    status: &'static str,
    items_total: i64,
    shipping_fee: i64,
    source_cart_item_ids: Vec<i64>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = order_items)]
struct NewOrderItemRow<'a> {
    order_id: i64,
    line_no: i32,
    product_id: i64,
    product_name: &'a str,
    thumbnail_url: Option<&'a str>,
    unit_price: i64,
    quantity: i32,
    line_total: i64,
}

/// An order the expiry job moved to EXPIRED.
#[derive(QueryableByName)]
struct ExpiredRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    order_key: String,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
}

/// Failure code written on a READY payment whose order was canceled or expired unpaid.
const ORDER_CANCELED: (&str, &str) = ("ORDER_CANCELED", "the order was canceled before payment");
const ORDER_EXPIRED: (&str, &str) = ("ORDER_EXPIRED", "the order expired before payment");

/// An order with its items, by id.
pub(crate) async fn load_order(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<(OrderRow, Vec<OrderItemRow>)>> {
    let row: Option<OrderRow> = orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let items = order_items::table
        .filter(order_items::order_id.eq(id))
        .order(order_items::line_no.asc())
        .select(OrderItemRow::as_select())
        .load(conn)
        .await?;
    Ok(Some((row, items)))
}

async fn insert_order(
    conn: &mut AsyncPgConnection,
    order: &NewOrder,
) -> Result<Order, TxError<anyhow::Error>> {
    let row: OrderRow = diesel::insert_into(orders::table)
        .values(NewOrderRow {
            order_key: order.key.to_string(),
            user_id: order.user_id.value(),
            name: &order.name,
            status: OrderStatus::Created.as_str(),
            items_total: order.items_total.won(),
            shipping_fee: order.shipping_fee.won(),
            source_cart_item_ids: order
                .source_cart_item_ids
                .iter()
                .map(|id| id.value())
                .collect(),
            created_at: order.created_at,
            expires_at: order.expires_at,
            updated_at: order.created_at,
        })
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await?;
    let items = order
        .items
        .iter()
        .enumerate()
        .map(|(line_no, item)| {
            Ok(NewOrderItemRow {
                order_id: row.id,
                line_no: i32::try_from(line_no)?,
                product_id: item.product_id.value(),
                product_name: &item.product_name,
                thumbnail_url: item.thumbnail_url.as_deref(),
                unit_price: item.unit_price.won(),
                quantity: quantity_column(item.quantity),
                line_total: item.line_total.won(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut items: Vec<OrderItemRow> = diesel::insert_into(order_items::table)
        .values(items)
        .returning(OrderItemRow::as_returning())
        .get_results(conn)
        .await?;
    items.sort_by_key(|item| item.line_no);
    Ok(row.into_domain(items)?)
}

/// Fails the order's READY payment, if it has one: an order that can no longer be paid has no
/// live payment.
pub(crate) async fn fail_ready_payments(
    conn: &mut AsyncPgConnection,
    order_ids: &[i64],
    (code, message): (&str, &str),
    now: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::update(
        payments::table
            .filter(payments::order_id.eq_any(order_ids))
            .filter(payments::status.eq(PaymentStatus::Ready.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Failed.as_str()),
        payments::failure_code.eq(code),
        payments::failure_message.eq(message),
        payments::updated_at.eq(now),
        payments::checked_at.eq(now),
    ))
    .execute(conn)
    .await
}

async fn cancel_unpaid(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    now: OffsetDateTime,
) -> Result<(), TxError<CancelUnpaidError>> {
    // The order row is the lock a reservation takes too, so either the reservation sees the
    // order CANCELED, or this sees `payment_in_progress`.
    let canceled: Option<(String, i64)> = diesel::update(
        orders::table
            .find(order.value())
            .filter(orders::status.eq(OrderStatus::Created.as_str()))
            .filter(orders::payment_in_progress.eq(false)),
    )
    .set((
        orders::status.eq(OrderStatus::Canceled.as_str()),
        orders::canceled_at.eq(now),
        orders::updated_at.eq(now),
    ))
    .returning((orders::order_key, orders::user_id))
    .get_result(conn)
    .await
    .optional()?;
    let Some((key, user)) = canceled else {
        let found: Option<(String, bool)> = orders::table
            .find(order.value())
            .select((orders::status, orders::payment_in_progress))
            .first(conn)
            .await
            .optional()?;
        return Err(match found {
            None => TxError::Other(anyhow::anyhow!("order {order} not found")),
            Some((status, _)) if status != OrderStatus::Created.as_str() => {
                TxError::Conflict(CancelUnpaidError::NotCancelable(order_status(&status)?))
            }
            Some(_) => TxError::Conflict(CancelUnpaidError::PaymentInProgress),
        });
    };
    fail_ready_payments(conn, &[order.value()], ORDER_CANCELED, now).await?;
    let event = DomainEvent::OrderCanceled {
        order_key: order_key(&key)?,
        user_id: UserId::new(user),
        refunded_amount: domain::model::Money::ZERO,
    };
    write_events(conn, &[event], now).await
}

async fn expire_due(
    conn: &mut AsyncPgConnection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<OrderKey>, TxError<anyhow::Error>> {
    // SKIP LOCKED: rows another instance (or a reservation) holds are left for later; a row
    // changed since our snapshot is re-checked against the conditions once locked, so an order
    // whose reservation just committed (`payment_in_progress`) is never expired. The pick is a
    // MATERIALIZED CTE so it runs once: as a rescanned subquery it would skip the rows this very
    // statement already updated and pick more, past the limit.
    let expired: Vec<ExpiredRow> = diesel::sql_query(
        "WITH due AS MATERIALIZED ( \
             SELECT id FROM orders \
             WHERE status = 'CREATED' AND expires_at <= $1 AND NOT payment_in_progress \
             ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE orders o SET status = 'EXPIRED', updated_at = $1 \
         FROM due \
         WHERE o.id = due.id AND o.status = 'CREATED' AND NOT o.payment_in_progress \
         RETURNING o.id, o.order_key, o.user_id",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(i64::from(limit))
    .load(conn)
    .await?;
    if expired.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = expired.iter().map(|row| row.id).collect();
    fail_ready_payments(conn, &ids, ORDER_EXPIRED, now).await?;
    let mut keys = Vec::with_capacity(expired.len());
    let mut events = Vec::with_capacity(expired.len());
    for row in expired {
        let key = order_key(&row.order_key)?;
        keys.push(key);
        events.push(DomainEvent::OrderExpired {
            order_key: key,
            user_id: UserId::new(row.user_id),
        });
    }
    write_events(conn, &events, now).await?;
    Ok(keys)
}

#[async_trait]
impl OrderRepository for PgStore {
    async fn create(&self, order: NewOrder) -> anyhow::Result<Order> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| insert_order(conn, &order).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn find_by_key(&self, key: OrderKey) -> anyhow::Result<Option<Order>> {
        let mut conn = self.db.conn().await?;
        let id: Option<i64> = orders::table
            .filter(orders::order_key.eq(key.to_string()))
            .select(orders::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        let Some(id) = id else {
            return Ok(None);
        };
        let found = load_order(&mut conn, id).await.map_err(db_error)?;
        found.map(|(row, items)| row.into_domain(items)).transpose()
    }

    async fn find_by_id(&self, id: OrderId) -> anyhow::Result<Option<Order>> {
        let mut conn = self.db.conn().await?;
        let found = load_order(&mut conn, id.value()).await.map_err(db_error)?;
        found.map(|(row, items)| row.into_domain(items)).transpose()
    }

    async fn list_for_user(
        &self,
        user: UserId,
        status: Option<OrderStatus>,
        after: Option<OrderKey>,
        limit: PageLimit,
    ) -> anyhow::Result<Page<OrderSummary, OrderKey>> {
        let mut conn = self.db.conn().await?;
        let mut query = orders::table
            .filter(orders::user_id.eq(user.value()))
            .select((
                orders::order_key,
                orders::name,
                orders::status,
                orders::paid_amount,
                orders::created_at,
                orders::paid_at,
            ))
            .order(orders::order_key.desc())
            .limit(i64::from(limit.get()) + 1)
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(orders::status.eq(status.as_str()));
        }
        if let Some(after) = after {
            query = query.filter(orders::order_key.lt(after.to_string()));
        }
        let rows: Vec<(
            String,
            String,
            String,
            i64,
            OffsetDateTime,
            Option<OffsetDateTime>,
        )> = query.load(&mut conn).await.map_err(db_error)?;
        let summaries = rows
            .into_iter()
            .map(|(key, name, status, paid_amount, created_at, paid_at)| {
                Ok(OrderSummary {
                    key: order_key(&key)?,
                    name,
                    status: order_status(&status)?,
                    paid_amount: money(paid_amount, "paid amount")?,
                    created_at,
                    paid_at,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(summaries, limit, |s| s.key))
    }

    async fn cancel_unpaid(
        &self,
        order: OrderId,
        now: OffsetDateTime,
    ) -> Result<(), CancelUnpaidError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| cancel_unpaid(conn, order, now).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn expire_due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OrderKey>> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| expire_due(conn, now, limit).await)
            .await
            .map_err(TxError::into_port_error)
    }
}
