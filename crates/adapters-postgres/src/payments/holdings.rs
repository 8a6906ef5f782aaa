//! What a reservation holds besides the payment: stock and the coupon, taken and given back.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::model::{OrderId, OwnedCouponId, OwnedCouponStatus, ProductId, Quantity};
use time::OffsetDateTime;

use crate::rows::quantity_column;
use crate::schema::{owned_coupons, products};

/// Takes `units` of each product, in product id order so that concurrent reservations lock
/// rows in the same order; `Err(product)` for the first one with too little stock left.
pub(super) async fn take_stock(
    conn: &mut AsyncPgConnection,
    lines: &[(ProductId, Quantity)],
    now: OffsetDateTime,
) -> QueryResult<Result<(), ProductId>> {
    let mut lines = lines.to_vec();
    lines.sort_by_key(|(product, _)| *product);
    for (product, units) in lines {
        let units = quantity_column(units);
        let taken = diesel::update(
            products::table
                .find(product.value())
                .filter(products::stock.ge(units)),
        )
        .set((
            products::stock.eq(products::stock - units),
            products::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        if taken == 0 {
            return Ok(Err(product));
        }
    }
    Ok(Ok(()))
}

/// Gives units back to stock, in product id order.
pub(super) async fn restore_stock(
    conn: &mut AsyncPgConnection,
    lines: &[(ProductId, Quantity)],
    now: OffsetDateTime,
) -> QueryResult<()> {
    let mut lines = lines.to_vec();
    lines.sort_by_key(|(product, _)| *product);
    for (product, units) in lines {
        diesel::update(products::table.find(product.value()))
            .set((
                products::stock.eq(products::stock + quantity_column(units)),
                products::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Puts a coupon used on `order` back to ISSUED.
pub(super) async fn return_coupon(
    conn: &mut AsyncPgConnection,
    coupon: Option<OwnedCouponId>,
    order: OrderId,
) -> QueryResult<()> {
    let Some(coupon) = coupon else {
        return Ok(());
    };
    diesel::update(
        owned_coupons::table
            .find(coupon.value())
            .filter(owned_coupons::used_order_id.eq(order.value()))
            .filter(owned_coupons::status.eq(OwnedCouponStatus::Used.as_str())),
    )
    .set((
        owned_coupons::status.eq(OwnedCouponStatus::Issued.as_str()),
        owned_coupons::used_order_id.eq(None::<i64>),
        owned_coupons::used_at.eq(None::<OffsetDateTime>),
    ))
    .execute(conn)
    .await?;
    Ok(())
}
