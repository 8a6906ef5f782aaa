//! Point balances and their ledger ([`PointRepository`]), and the balance changes the payment
//! transactions make. Every change updates the balance row (which locks it) and appends a ledger
//! entry with the balance after it, in one statement inside the caller's transaction.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{
    Money, OrderKey, Page, PageLimit, PointEntry, PointEntryId, PointEntryKind, UserId,
};
use domain::ports::PointRepository;
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::prepared::prepared_sql;
use crate::rows::{PointEntryRow, money};
use crate::schema::{point_balances, point_ledger};
use crate::store::PgStore;

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

/// The balance after a change.
#[derive(QueryableByName)]
struct Balance {
    #[diesel(sql_type = BigInt)]
    balance: i64,
}

/// Adds `$2` to the balance of `$1` (creating it at zero first if needed: the upsert), then
/// records the entry unless nothing moved (a zero amount records nothing); answers the balance
/// after.
const CREDIT: &str = "WITH b AS ( \
         INSERT INTO point_balances (user_id, balance, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE \
             SET balance = point_balances.balance + EXCLUDED.balance, \
                 updated_at = EXCLUDED.updated_at \
         RETURNING balance), \
     l AS ( \
         INSERT INTO point_ledger (user_id, kind, amount, balance_after, order_key, reason, \
             created_at) \
         SELECT $1, $4, $2, b.balance, $5, $6, $3 FROM b WHERE $2 > 0) \
     SELECT balance FROM b";

/// Takes `$2` from the balance of `$1`, only if it is all there, then records the entry as
/// [`CREDIT`] does; answers the balance after, or no row when the balance was too small.
const DEBIT: &str = "WITH b AS ( \
         UPDATE point_balances SET balance = balance - $2, updated_at = $3 \
         WHERE user_id = $1 AND balance >= $2 \
         RETURNING balance), \
     l AS ( \
         INSERT INTO point_ledger (user_id, kind, amount, balance_after, order_key, reason, \
             created_at) \
         SELECT $1, $4, $2, b.balance, $5, $6, $3 FROM b WHERE $2 > 0) \
     SELECT balance FROM b";

/// Changes the balance and records the entry in one statement ([`CREDIT`] or [`DEBIT`]). The
/// balance row is locked by the change before the ledger row takes its id, so per user the
/// ledger's ids follow the balance's history, as when they were two statements in the caller's
/// transaction.
async fn change_balance(
    conn: &mut AsyncPgConnection,
    statement: &'static str,
    c: Change<'_>,
) -> QueryResult<Option<i64>> {
    let balance: Option<Balance> = prepared_sql(statement)
        .bind::<BigInt, _>(c.user.value())
        .bind::<BigInt, _>(c.amount.won())
        .bind::<Timestamptz, _>(c.now)
        .bind::<Text, _>(c.kind.as_str())
        .bind::<Nullable<Text>, _>(c.order_key.map(|key| key.to_string()))
        .bind::<Nullable<Text>, _>(c.reason)
        .get_result(conn)
        .await
        .optional()?;
    Ok(balance.map(|b| b.balance))
}

/// Adds to the balance (creating it at zero first if needed) and records the entry; returns the
/// balance after. A zero amount changes nothing and records nothing.
pub(crate) async fn credit<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
) -> Result<Money, TxError<E>> {
    let Some(balance) = change_balance(conn, CREDIT, change).await? else {
        return Err(TxError::Other(anyhow::anyhow!(
            "crediting points to user {} changed no balance",
            change.user
        )));
    };
    Ok(money(balance, "point balance")?)
}

/// Takes the whole amount from the balance, only if it is all there (`.. WHERE balance >= n`),
/// and records the entry; `None` when it is not, with nothing changed.
pub(crate) async fn debit<E>(
    conn: &mut AsyncPgConnection,
    change: Change<'_>,
) -> Result<Option<Money>, TxError<E>> {
    let balance = change_balance(conn, DEBIT, change).await?;
    Ok(balance
        .map(|balance| money(balance, "point balance"))
        .transpose()?)
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
