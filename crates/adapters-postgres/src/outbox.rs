//! The transactional outbox ([`OutboxRepository`]), and the insert the other ports' transactions
//! use to write their events.

use anyhow::Context as _;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ports::{DomainEvent, OutboxMessage, OutboxRepository};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::schema::outbox;
use crate::store::PgStore;

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewOutboxRow {
    topic: &'static str,
    payload: serde_json::Value,
    created_at: OffsetDateTime,
}

#[derive(QueryableByName)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
struct OutboxRow {
    id: i64,
    payload: serde_json::Value,
    created_at: OffsetDateTime,
}

impl OutboxRow {
    fn into_domain(self) -> anyhow::Result<OutboxMessage> {
        let event = serde_json::from_value(self.payload)
            .with_context(|| format!("outbox message {} is not a known event", self.id))?;
        Ok(OutboxMessage {
            id: self.id,
            event,
            created_at: self.created_at,
        })
    }
}

/// Writes events to the outbox on the caller's connection, inside the caller's transaction:
/// they are stored exactly when the change they report is.
pub(crate) async fn write_events<E>(
    conn: &mut AsyncPgConnection,
    events: &[DomainEvent],
    now: OffsetDateTime,
) -> Result<(), TxError<E>> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events
        .iter()
        .map(|event| {
            Ok(NewOutboxRow {
                topic: event.topic(),
                payload: serde_json::to_value(event).context("serialising an event")?,
                created_at: now,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    diesel::insert_into(outbox::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl OutboxRepository for PgStore {
    /// Claims by pushing `claimed_until` forward under `FOR UPDATE SKIP LOCKED` (in a
    /// MATERIALIZED CTE, as in the expiry job, so the limit holds).
    async fn claim_unpublished(
        &self,
        limit: u32,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
    ) -> anyhow::Result<Vec<OutboxMessage>> {
        let mut conn = self.db.conn().await?;
        let mut rows: Vec<OutboxRow> = diesel::sql_query(
            "WITH picked AS MATERIALIZED ( \
                 SELECT id FROM outbox \
                 WHERE published_at IS NULL \
                   AND (claimed_until IS NULL OR claimed_until <= $3) \
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox o SET claimed_until = $1 FROM picked WHERE o.id = picked.id \
             RETURNING o.id, o.payload, o.created_at",
        )
        .bind::<Timestamptz, _>(claimed_until)
        .bind::<BigInt, _>(i64::from(limit))
        .bind::<Timestamptz, _>(now)
        .load(&mut conn)
        .await
        .map_err(db_error)?;
        rows.sort_by_key(|row| row.id);
        rows.into_iter().map(OutboxRow::into_domain).collect()
    }

    async fn mark_published(&self, ids: Vec<i64>, now: OffsetDateTime) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.db.conn().await?;
        diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(ids))
                .filter(outbox::published_at.is_null()),
        )
        .set(outbox::published_at.eq(now))
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
