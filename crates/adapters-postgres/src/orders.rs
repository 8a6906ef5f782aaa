//! Orders and their items ([`OrderRepository`]): creation, reads, buyer cancellation of an
//! unpaid order, and the expiry job.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{
    Money, NewOrder, Order, OrderAmounts, OrderId, OrderItem, OrderKey, OrderStatus, OrderSummary,
    Page, PageLimit, PaymentStatus, UserId,
};
use domain::ports::{CancelUnpaidError, DomainEvent, OrderRepository};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::outbox::write_events;
use crate::prepared::prepared_sql;
use crate::rows::{OrderItemRow, OrderRow, money, order_key, order_status, quantity_column};
use crate::schema::{order_items, orders, payments};
use crate::store::PgStore;

/// What inserting an order gives back: its id, and its timestamps as stored (PostgreSQL keeps
/// microseconds), so the returned order equals the one read later.
#[derive(QueryableByName)]
struct InsertedOrder {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    expires_at: OffsetDateTime,
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

/// An order joined with its items, one row per item, in line order: what [`assemble_order`]
/// takes. The order's columns repeat on each row (orders have a few lines), which costs less
/// than a second round trip; the join is a LEFT JOIN so an order reads the same whatever its
/// items.
type OrderLines = Vec<(OrderRow, Option<OrderItemRow>)>;

/// The order in `rows` (all rows carry the same one), or `None` for no rows.
fn assemble_order(rows: OrderLines) -> anyhow::Result<Option<Order>> {
    let mut rows = rows.into_iter();
    let Some((order, first)) = rows.next() else {
        return Ok(None);
    };
    let items = first
        .into_iter()
        .chain(rows.filter_map(|(_, item)| item))
        .collect();
    order.into_domain(items).map(Some)
}

/// Inserts the order and all its items in one statement (a data-modifying CTE, the items
/// unnested from one array per column), so it is atomic without `BEGIN`/`COMMIT`, and prepared
/// once per connection; the order returned is built from `order` and what the insert returned,
/// not read back.
async fn insert_order(conn: &mut AsyncPgConnection, order: &NewOrder) -> anyhow::Result<Order> {
    let items = &order.items;
    let inserted: InsertedOrder = prepared_sql(
        "WITH o AS ( \
             INSERT INTO orders (order_key, user_id, name, status, items_total, shipping_fee, \
                 source_cart_item_ids, created_at, expires_at, updated_at) \
             VALUES ($1, $2, $3, 'CREATED', $4, $5, $6, $7, $8, $7) \
             RETURNING id, created_at, expires_at), \
         i AS ( \
             INSERT INTO order_items (order_id, line_no, product_id, product_name, thumbnail_url, \
                 unit_price, quantity, line_total) \
             SELECT o.id, (u.n - 1)::int, u.product_id, u.product_name, u.thumbnail_url, \
                 u.unit_price, u.quantity, u.line_total \
             FROM o, unnest($9, $10, $11, $12, $13, $14) WITH ORDINALITY \
                 AS u(product_id, product_name, thumbnail_url, unit_price, quantity, line_total, n)) \
         SELECT id, created_at, expires_at FROM o",
    )
    .bind::<Text, _>(order.key.to_string())
    .bind::<BigInt, _>(order.user_id.value())
    .bind::<Text, _>(&order.name)
    .bind::<BigInt, _>(order.items_total.won())
    .bind::<BigInt, _>(order.shipping_fee.won())
    .bind::<Array<BigInt>, _>(
        order
            .source_cart_item_ids
            .iter()
            .map(|id| id.value())
            .collect::<Vec<_>>(),
    )
    .bind::<Timestamptz, _>(order.created_at)
    .bind::<Timestamptz, _>(order.expires_at)
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.product_id.value()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items.iter().map(|i| &i.product_name).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        items
            .iter()
            .map(|i| i.thumbnail_url.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.unit_price.won()).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(
        items
            .iter()
            .map(|i| quantity_column(i.quantity))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.line_total.won()).collect::<Vec<_>>())
    .get_result(conn)
    .await
    .map_err(db_error)?;
    Ok(Order {
        id: OrderId::new(inserted.id),
        key: order.key,
        user_id: order.user_id,
        name: order.name.clone(),
        status: OrderStatus::Created,
        items: items
            .iter()
            .map(|item| OrderItem {
                product_id: item.product_id,
                product_name: item.product_name.clone(),
                thumbnail_url: item.thumbnail_url.clone(),
                unit_price: item.unit_price,
                quantity: item.quantity,
                line_total: item.line_total,
                discount: Money::ZERO,
            })
            .collect(),
        amounts: OrderAmounts {
            items_total: order.items_total,
            shipping_fee: order.shipping_fee,
            ..OrderAmounts::default()
        },
        shipping_address: None,
        source_cart_item_ids: order.source_cart_item_ids.clone(),
        created_at: inserted.created_at,
        expires_at: inserted.expires_at,
        paid_at: None,
        canceled_at: None,
    })
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

/// The columns of an order row and, when it has any, one of its items.
type OrderAndItem = (
    diesel::dsl::AsSelect<OrderRow, diesel::pg::Pg>,
    diesel::dsl::AsSelect<Option<OrderItemRow>, diesel::pg::Pg>,
);
/// The query of [`order_with_items`], before its filter.
type OrderWithItems = diesel::dsl::Order<
    diesel::dsl::Select<diesel::dsl::LeftJoin<orders::table, order_items::table>, OrderAndItem>,
    diesel::dsl::Asc<order_items::line_no>,
>;

/// An order row with its items in line order, in one round trip; callers add the filter.
fn order_with_items() -> OrderWithItems {
    orders::table
        .left_join(order_items::table)
        .select((OrderRow::as_select(), Option::<OrderItemRow>::as_select()))
        .order(order_items::line_no.asc())
}

#[async_trait]
impl OrderRepository for PgStore {
    async fn create(&self, order: NewOrder) -> anyhow::Result<Order> {
        let mut conn = self.db.conn().await?;
        insert_order(&mut conn, &order).await
    }

    async fn find_by_key(&self, key: OrderKey) -> anyhow::Result<Option<Order>> {
        let mut conn = self.db.conn().await?;
        let rows: OrderLines = order_with_items()
            .filter(orders::order_key.eq(key.to_string()))
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        assemble_order(rows)
    }

    async fn find_by_id(&self, id: OrderId) -> anyhow::Result<Option<Order>> {
        let mut conn = self.db.conn().await?;
        let rows: OrderLines = order_with_items()
            .filter(orders::id.eq(id.value()))
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        assemble_order(rows)
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
