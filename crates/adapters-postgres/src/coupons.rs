//! Coupons and the coupons users own ([`CouponRepository`]).

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use domain::model::{
    Coupon, CouponId, CouponKind, Money, NewCoupon, OwnedCoupon, OwnedCouponId, OwnedCouponStatus,
    ProductId, UserId,
};
use domain::ports::{CouponRepository, DownloadCouponError};
use time::OffsetDateTime;

use crate::error::{TxError, db_error};
use crate::rows::{CouponRow, OwnedCouponRow, to_i32};
use crate::schema::{coupon_products, coupons, owned_coupons};
use crate::store::PgStore;

#[derive(Insertable)]
#[diesel(table_name = coupons)]
struct NewCouponRow<'a> {
    name: &'a str,
    kind: &'static str,
    amount: Option<i64>,
    percent: Option<i16>,
    max_discount: Option<i64>,
    min_order_amount: i64,
    valid_until: OffsetDateTime,
    issue_limit: Option<i32>,
}

/// The target products of each coupon in `ids` (absent: every product).
async fn targets_of(
    conn: &mut AsyncPgConnection,
    ids: Vec<i64>,
) -> QueryResult<HashMap<i64, Vec<ProductId>>> {
    let pairs: Vec<(i64, i64)> = coupon_products::table
        .filter(coupon_products::coupon_id.eq_any(ids))
        .order((coupon_products::coupon_id, coupon_products::product_id))
        .select((coupon_products::coupon_id, coupon_products::product_id))
        .load(conn)
        .await?;
    let mut targets: HashMap<i64, Vec<ProductId>> = HashMap::new();
    for (coupon, product) in pairs {
        targets
            .entry(coupon)
            .or_default()
            .push(ProductId::new(product));
    }
    Ok(targets)
}

/// Coupon rows with their targets, in the rows' order.
async fn with_targets(
    conn: &mut AsyncPgConnection,
    rows: Vec<CouponRow>,
) -> anyhow::Result<Vec<Coupon>> {
    let mut targets = targets_of(conn, rows.iter().map(|r| r.id).collect())
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|row| {
            let products = targets.remove(&row.id).unwrap_or_default();
            row.into_domain(products)
        })
        .collect()
}

/// Owned coupon rows joined with their coupons, with the coupons' targets.
async fn owned_with_targets(
    conn: &mut AsyncPgConnection,
    rows: Vec<(OwnedCouponRow, CouponRow)>,
) -> anyhow::Result<Vec<OwnedCoupon>> {
    let targets = targets_of(conn, rows.iter().map(|(_, c)| c.id).collect())
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(owned, coupon)| {
            let products = targets.get(&coupon.id).cloned().unwrap_or_default();
            owned.into_domain(coupon.into_domain(products)?)
        })
        .collect()
}

async fn insert_coupon(
    conn: &mut AsyncPgConnection,
    coupon: &NewCoupon,
) -> Result<Coupon, TxError<anyhow::Error>> {
    let (amount, percent, max_discount) = match coupon.kind {
        CouponKind::Fixed { amount } => (Some(amount.won()), None, None),
        CouponKind::Rate {
            percent,
            max_discount,
        } => (
            None,
            Some(i16::from(u8::from(percent))),
            max_discount.map(Money::won),
        ),
    };
    let row: CouponRow = diesel::insert_into(coupons::table)
        .values(NewCouponRow {
            name: &coupon.name,
            kind: coupon.kind.name(),
            amount,
            percent,
            max_discount,
            min_order_amount: coupon.min_order_amount.won(),
            valid_until: coupon.valid_until,
            issue_limit: coupon
                .issue_limit
                .map(|limit| to_i32(limit, "issue limit"))
                .transpose()?,
        })
        .returning(CouponRow::as_returning())
        .get_result(conn)
        .await?;
    let mut products = coupon.product_ids.clone();
    products.sort();
    products.dedup();
    if !products.is_empty() {
        let targets: Vec<_> = products
            .iter()
            .map(|p| {
                (
                    coupon_products::coupon_id.eq(row.id),
                    coupon_products::product_id.eq(p.value()),
                )
            })
            .collect();
        diesel::insert_into(coupon_products::table)
            .values(targets)
            .execute(conn)
            .await?;
    }
    Ok(row.into_domain(products)?)
}

/// A download: take one from the issue limit, then insert the owned coupon. Any failure
/// returns out of the transaction, so the increment is rolled back with it.
async fn download(
    conn: &mut AsyncPgConnection,
    user: UserId,
    coupon: CouponId,
    now: OffsetDateTime,
) -> Result<OwnedCoupon, TxError<DownloadCouponError>> {
    // The row lock taken here serialises concurrent downloads of this coupon; the condition is
    // re-checked on the latest row after waiting, so the limit holds under any concurrency.
    let taken: Option<CouponRow> = diesel::update(
        coupons::table
            .find(coupon.value())
            .filter(coupons::valid_until.ge(now))
            .filter(
                coupons::issue_limit
                    .is_null()
                    .or(coupons::issued_count.nullable().lt(coupons::issue_limit)),
            ),
    )
    .set(coupons::issued_count.eq(coupons::issued_count + 1))
    .returning(CouponRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = taken else {
        return Err(TxError::Conflict(
            why_not_downloadable(conn, user, coupon, now).await?,
        ));
    };
    let owned_id: Option<i64> = diesel::insert_into(owned_coupons::table)
        .values((
            owned_coupons::user_id.eq(user.value()),
            owned_coupons::coupon_id.eq(coupon.value()),
            owned_coupons::status.eq(OwnedCouponStatus::Issued.as_str()),
            owned_coupons::issued_at.eq(now),
        ))
        .on_conflict((owned_coupons::user_id, owned_coupons::coupon_id))
        .do_nothing()
        .returning(owned_coupons::id)
        .get_result(conn)
        .await
        .optional()?;
    let Some(id) = owned_id else {
        return Err(TxError::Conflict(DownloadCouponError::AlreadyDownloaded));
    };
    let products = targets_of(conn, vec![row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(OwnedCoupon {
        id: OwnedCouponId::new(id),
        user_id: user,
        coupon: row.into_domain(products)?,
        status: OwnedCouponStatus::Issued,
        used_order_id: None,
    })
}

/// Reads back why the conditional increment found nothing to update.
async fn why_not_downloadable(
    conn: &mut AsyncPgConnection,
    user: UserId,
    coupon: CouponId,
    now: OffsetDateTime,
) -> QueryResult<DownloadCouponError> {
    let valid_until: Option<OffsetDateTime> = coupons::table
        .find(coupon.value())
        .select(coupons::valid_until)
        .first(conn)
        .await
        .optional()?;
    let Some(valid_until) = valid_until else {
        return Ok(DownloadCouponError::NotFound(coupon));
    };
    if valid_until < now {
        return Ok(DownloadCouponError::Expired);
    }
    // Exhausted, unless this user has one already: that answer is the more useful one.
    let owned: i64 = owned_coupons::table
        .filter(owned_coupons::user_id.eq(user.value()))
        .filter(owned_coupons::coupon_id.eq(coupon.value()))
        .count()
        .get_result(conn)
        .await?;
    Ok(if owned > 0 {
        DownloadCouponError::AlreadyDownloaded
    } else {
        DownloadCouponError::Exhausted
    })
}

#[async_trait]
impl CouponRepository for PgStore {
    async fn create(&self, coupon: NewCoupon) -> anyhow::Result<Coupon> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| insert_coupon(conn, &coupon).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn find(&self, id: CouponId) -> anyhow::Result<Option<Coupon>> {
        let mut conn = self.db.conn().await?;
        let row: Option<CouponRow> = coupons::table
            .find(id.value())
            .select(CouponRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        let rows = row.into_iter().collect();
        Ok(with_targets(&mut conn, rows).await?.pop())
    }

    async fn list_downloadable(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Coupon>> {
        let mut conn = self.db.conn().await?;
        let owned_by_user = owned_coupons::table
            .filter(owned_coupons::user_id.eq(user.value()))
            .select(owned_coupons::coupon_id);
        let rows: Vec<CouponRow> = coupons::table
            .filter(coupons::valid_until.ge(now))
            .filter(diesel::dsl::not(coupons::id.eq_any(owned_by_user)))
            .filter(
                coupons::issue_limit
                    .is_null()
                    .or(coupons::issued_count.nullable().lt(coupons::issue_limit)),
            )
            .order(coupons::id.desc())
            .select(CouponRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        with_targets(&mut conn, rows).await
    }

    async fn download(
        &self,
        user: UserId,
        coupon: CouponId,
        now: OffsetDateTime,
    ) -> Result<OwnedCoupon, DownloadCouponError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |conn| download(conn, user, coupon, now).await)
            .await
            .map_err(TxError::into_port_error)
    }

    async fn list_owned(&self, user: UserId) -> anyhow::Result<Vec<OwnedCoupon>> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<(OwnedCouponRow, CouponRow)> = owned_coupons::table
            .inner_join(coupons::table)
            .filter(owned_coupons::user_id.eq(user.value()))
            .order(owned_coupons::id.desc())
            .select((OwnedCouponRow::as_select(), CouponRow::as_select()))
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        owned_with_targets(&mut conn, rows).await
    }

    async fn find_owned(
        &self,
        user: UserId,
        id: OwnedCouponId,
    ) -> anyhow::Result<Option<OwnedCoupon>> {
        let mut conn = self.db.conn().await?;
        let row: Option<(OwnedCouponRow, CouponRow)> = owned_coupons::table
            .inner_join(coupons::table)
            .filter(owned_coupons::id.eq(id.value()))
            .filter(owned_coupons::user_id.eq(user.value()))
            .select((OwnedCouponRow::as_select(), CouponRow::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        let rows = row.into_iter().collect();
        Ok(owned_with_targets(&mut conn, rows).await?.pop())
    }
}
