//! Point balances and their ledger ([`PointRepository`]), and the balance changes the payment
//! transactions make. Every change updates the balance row (which locks it) and then appends a
//! ledger entry with the balance after it, in the caller's transaction.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{
    Money, OrderKey, Page, PageLimit, PointEntry, PointEntryId, PointEntryKind, UserId,
};
use domain::ports::PointRepository;
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::rows::{PointEntryRow, money};
use crate::schema::{point_balances, point_ledger};
use crate::store::PgStore;

#[derive(Insertable)]
#[diesel(table_name = point_ledger)]
struct NewEntryRow<'a> {
    user_id: i64,
    kind: &'static str,
    amount: i64,
    balance_after: i64,
    order_key: Option<String>,
    reason: Option<&'a str>,
    created_at: OffsetDateTime,
}

/// One balance change to record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Change<'a> {
    pub user: UserId,
    pub kind: PointEntryKind,
    pub amount: Money,
    pub order_key: Option<OrderKey>,
    pub reason: Option<&'a str>,
    pub now: OffsetDateTime,
}

async fn append_entry<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
    balance_after: i64,
) -> Result<(), TxError<E>> {
    diesel::insert_into(point_ledger::table)
        .values(NewEntryRow {
            user_id: change.user.value(),
            kind: change.kind.as_str(),
            amount: change.amount.won(),
            balance_after,
            order_key: change.order_key.map(|key| key.to_string()),
            reason: change.reason,
            created_at: change.now,
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds to the balance (creating it at zero first if needed) and records the entry; returns the
/// balance after. A zero amount changes nothing and records nothing.
pub(crate) async fn credit<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
) -> Result<Money, TxError<E>> {
    let balance: i64 = diesel::insert_into(point_balances::table)
        .values((
            point_balances::user_id.eq(change.user.value()),
            point_balances::balance.eq(change.amount.won()),
            point_balances::updated_at.eq(change.now),
        ))
        .on_conflict(point_balances::user_id)
        .do_update()
        .set((
            point_balances::balance.eq(point_balances::balance + excluded(point_balances::balance)),
            point_balances::updated_at.eq(excluded(point_balances::updated_at)),
        ))
        .returning(point_balances::balance)
        .get_result(conn)
        .await?;
    if !change.amount.is_zero() {
        append_entry(conn, change, balance).await?;
    }
    Ok(money(balance, "point balance")?)
}

/// Takes the whole amount from the balance, only if it is all there (`.. WHERE balance >= n`);
/// `None` when it is not, with nothing changed.
pub(crate) async fn debit<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
) -> Result<Option<Money>, TxError<E>> {
    let amount = change.amount.won();
    let balance: Option<i64> = diesel::update(
        point_balances::table
            .find(change.user.value())
            .filter(point_balances::balance.ge(amount)),
    )
    .set((
        point_balances::balance.eq(point_balances::balance - amount),
        point_balances::updated_at.eq(change.now),
    ))
    .returning(point_balances::balance)
    .get_result(conn)
    .await
    .optional()?;
    let Some(balance) = balance else {
        return Ok(None);
    };
    if amount > 0 {
        append_entry(conn, change, balance).await?;
    }
    Ok(Some(money(balance, "point balance")?))
}

/// Takes as much of the amount as the balance holds; returns how much it took.
pub(crate) async fn debit_up_to<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
) -> Result<Money, TxError<E>> {
    let balance: Option<i64> = point_balances::table
        .find(change.user.value())
        .select(point_balances::balance)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let taken = change
        .amount
        .min(money(balance.unwrap_or(0), "point balance")?);
    if !taken.is_zero() {
        debit(
            conn,
            Change {
                amount: taken,
                ..change
            },
        )
        .await?;
    }
    Ok(taken)
}

#[async_trait]
impl PointRepository for PgStore {
    async fn balance(&self, user: UserId) -> anyhow::Result<Money> {
        let mut conn = self.db.conn().await?;
        let balance: Option<i64> = point_balances::table
            .find(user.value())
            .select(point_balances::balance)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        money(balance.unwrap_or(0), "point balance")
    }

    async fn ledger(
        &self,
        user: UserId,
        after: Option<PointEntryId>,
        limit: PageLimit,
    ) -> anyhow::Result<Page<PointEntry, PointEntryId>> {
        let mut conn = self.db.conn().await?;
        let mut query = point_ledger::table
            .filter(point_ledger::user_id.eq(user.value()))
            .select(PointEntryRow::as_select())
            .order(point_ledger::id.desc())
            .limit(i64::from(limit.get()) + 1)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(point_ledger::id.lt(after.value()));
        }
        let rows = query.load(&mut conn).await.map_err(db_error)?;
        let entries = rows
            .into_iter()
            .map(PointEntryRow::into_domain)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(entries, limit, |e| e.id))
    }

    async fn grant(
        &self,
        user: UserId,
        amount: Money,
        reason: String,
        now: OffsetDateTime,
    ) -> anyhow::Result<Money> {
        let mut conn = self.db.conn().await?;
        let change = Change {
            user,
            kind: PointEntryKind::Grant,
            amount,
            order_key: None,
            reason: Some(&reason),
            now,
        };
        conn.transaction(async |conn| credit::<anyhow::Error>(conn, change).await)
            .await
            .map_err(TxError::into_port_error)
    }
}
