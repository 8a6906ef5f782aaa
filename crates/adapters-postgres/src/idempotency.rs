//! `Idempotency-Key` records ([`IdempotencyStore`]).
//!
//! A claim is `INSERT .. ON CONFLICT DO NOTHING`: of two requests racing with one new key, the
//! database lets exactly one insert. The loser then locks the existing record (`FOR UPDATE`)
//! and decides from it, in the same transaction, whether to replay, refuse, or take over an
//! expired or abandoned record.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::UserId;
use domain::ports::{IdempotencyClaim, IdempotencyKey, IdempotencyStore, StoredResponse};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::schema::idempotency_records as records;
use crate::store::PgStore;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = records, check_for_backend(diesel::pg::Pg))]
struct RecordRow {
    fingerprint: String,
    response_status: Option<i32>,
    response_content_type: Option<String>,
    response_body: Option<Vec<u8>>,
    created_at: OffsetDateTime,
    locked_at: OffsetDateTime,
}

/// The times a claim judges an existing record by.
#[derive(Debug, Clone, Copy)]
struct ClaimClock {
    now: OffsetDateTime,
    expired_before: OffsetDateTime,
    abandoned_before: OffsetDateTime,
}

/// What to do with a record that is already there.
enum Decision {
    /// Start afresh (the record expired): a new fingerprint, no response, created now.
    Replace,
    /// Take over an abandoned in-flight record of the same request.
    TakeOver,
    Answer(IdempotencyClaim),
}

fn decide(record: RecordRow, fingerprint: &str, clock: ClaimClock) -> anyhow::Result<Decision> {
    if record.created_at < clock.expired_before {
        return Ok(Decision::Replace);
    }
    if record.fingerprint != fingerprint {
        return Ok(Decision::Answer(IdempotencyClaim::KeyReused));
    }
    match (
        record.response_status,
        record.response_content_type,
        record.response_body,
    ) {
        (Some(status), Some(content_type), Some(body)) => {
            let status = u16::try_from(status)
                .map_err(|_| anyhow::anyhow!("stored response status {status} is invalid"))?;
            Ok(Decision::Answer(IdempotencyClaim::Replay(StoredResponse {
                status,
                content_type,
                body,
            })))
        }
        _ if record.locked_at < clock.abandoned_before => Ok(Decision::TakeOver),
        _ => Ok(Decision::Answer(IdempotencyClaim::InProgress)),
    }
}

async fn claim(
    conn: &mut AsyncPgConnection,
    user: UserId,
    key: &IdempotencyKey,
    fingerprint: &str,
    clock: ClaimClock,
) -> Result<IdempotencyClaim, TxError<anyhow::Error>> {
    let this = records::table.find((user.value(), key.as_str()));
    // A record deleted (released or purged) between our conflict and our lock is simply
    // gone: try again. Two rounds are always enough, a third would mean a pathological race.
    for _ in 0..3 {
        let inserted = diesel::insert_into(records::table)
            .values((
                records::user_id.eq(user.value()),
                records::idempotency_key.eq(key.as_str()),
                records::fingerprint.eq(fingerprint),
                records::created_at.eq(clock.now),
                records::locked_at.eq(clock.now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 1 {
            return Ok(IdempotencyClaim::Acquired);
        }
        let existing: Option<RecordRow> = this
            .select(RecordRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(existing) = existing else {
            continue;
        };
        match decide(existing, fingerprint, clock)? {
            Decision::Answer(answer) => return Ok(answer),
            Decision::Replace => {
                diesel::update(this)
                    .set((
                        records::fingerprint.eq(fingerprint),
                        records::response_status.eq(None::<i32>),
                        records::response_content_type.eq(None::<String>),
                        records::response_body.eq(None::<Vec<u8>>),
                        records::completed_at.eq(None::<OffsetDateTime>),
                        records::created_at.eq(clock.now),
                        records::locked_at.eq(clock.now),
                    ))
                    .execute(conn)
                    .await?;
                return Ok(IdempotencyClaim::Acquired);
            }
            Decision::TakeOver => {
                diesel::update(this)
                    .set(records::locked_at.eq(clock.now))
                    .execute(conn)
                    .await?;
                return Ok(IdempotencyClaim::Acquired);
            }
        }
    }
    Err(TxError::Other(anyhow::anyhow!(
        "the idempotency record kept disappearing while being claimed"
    )))
}

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim(
        &self,
        user: UserId,
        key: IdempotencyKey,
        fingerprint: String,
        now: OffsetDateTime,
        expired_before: OffsetDateTime,
        abandoned_before: OffsetDateTime,
    ) -> anyhow::Result<IdempotencyClaim> {
        let clock = ClaimClock {
            now,
            expired_before,
            abandoned_before,
        };
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| claim(conn, user, &key, &fingerprint, clock).await)
            .await
            .map_err(TxError::into_port_error)
    }

    /// Only an unfinished record takes a response: a replayed answer never changes.
    async fn complete(
        &self,
        user: UserId,
        key: IdempotencyKey,
        response: StoredResponse,
    ) -> anyhow::Result<()> {
        let mut conn = self.db.conn().await?;
        diesel::update(
            records::table
                .find((user.value(), key.as_str()))
                .filter(records::completed_at.is_null()),
        )
        .set((
            records::response_status.eq(i32::from(response.status)),
            records::response_content_type.eq(&response.content_type),
            records::response_body.eq(&response.body),
            records::completed_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn release(&self, user: UserId, key: IdempotencyKey) -> anyhow::Result<()> {
        let mut conn = self.db.conn().await?;
        diesel::delete(
            records::table
                .find((user.value(), key.as_str()))
                .filter(records::completed_at.is_null()),
        )
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn purge(&self, before: OffsetDateTime) -> anyhow::Result<u64> {
        let mut conn = self.db.conn().await?;
        let deleted = diesel::delete(records::table.filter(records::created_at.lt(before)))
            .execute(&mut conn)
            .await
            .map_err(db_error)?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}
