//! Users' carts ([`CartRepository`]).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use domain::model::{CartItem, CartItemId, CartLine, ProductId, ProductStatus, Quantity, UserId};
use domain::ports::{AddToCartError, CartRepository};

use crate::error::{db_error, violated_constraint};
use crate::rows::{money, quantity, quantity_column};
use crate::schema::{cart_items, products};
use crate::store::PgStore;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = cart_items, check_for_backend(diesel::pg::Pg))]
struct CartItemRow {
    id: i64,
    user_id: i64,
    product_id: i64,
    quantity: i32,
}

impl CartItemRow {
    fn into_domain(self) -> anyhow::Result<CartItem> {
        Ok(CartItem {
            id: CartItemId::new(self.id),
            user_id: UserId::new(self.user_id),
            product_id: ProductId::new(self.product_id),
            quantity: quantity(self.quantity)?,
        })
    }
}

#[async_trait]
impl CartRepository for PgStore {
    /// One upsert: a new line, or `quantity + n` on the existing one. The line's CHECK
    /// (1..=999) turns an overflowing add into `QuantityLimit`; the foreign key turns an unknown
    /// product into `ProductNotFound`.
    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<CartItem, AddToCartError> {
        let mut conn = self.db.conn().await?;
        let added = diesel::insert_into(cart_items::table)
            .values((
                cart_items::user_id.eq(user.value()),
                cart_items::product_id.eq(product.value()),
                cart_items::quantity.eq(quantity_column(quantity)),
            ))
            .on_conflict((cart_items::user_id, cart_items::product_id))
            .do_update()
            .set(cart_items::quantity.eq(cart_items::quantity + excluded(cart_items::quantity)))
            .returning(CartItemRow::as_returning())
            .get_result(&mut conn)
            .await;
        match added {
            Ok(row) => Ok(row.into_domain()?),
            Err(e) => match violated_constraint(&e) {
                Some((DatabaseErrorKind::CheckViolation, "cart_items_quantity_range")) => {
                    Err(AddToCartError::QuantityLimit)
                }
                Some((DatabaseErrorKind::ForeignKeyViolation, _)) => {
                    Err(AddToCartError::ProductNotFound(product))
                }
                _ => Err(AddToCartError::Unknown(db_error(e))),
            },
        }
    }

    async fn lines(&self, user: UserId) -> anyhow::Result<Vec<CartLine>> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<(CartItemRow, String, i64, String)> = cart_items::table
            .inner_join(products::table)
            .filter(cart_items::user_id.eq(user.value()))
            .order(cart_items::id.asc())
            .select((
                CartItemRow::as_select(),
                products::name,
                products::selling_price,
                products::status,
            ))
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        rows.into_iter()
            .map(|(item, product_name, unit_price, status)| {
                Ok(CartLine {
                    item: item.into_domain()?,
                    product_name,
                    unit_price: money(unit_price, "selling price")?,
                    product_status: ProductStatus::parse(&status).ok_or_else(|| {
                        anyhow::anyhow!("unknown stored product status {status:?}")
                    })?,
                })
            })
            .collect()
    }

    async fn find_items(
        &self,
        user: UserId,
        ids: Vec<CartItemId>,
    ) -> anyhow::Result<Vec<CartItem>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.db.conn().await?;
        let ids: Vec<i64> = ids.into_iter().map(CartItemId::value).collect();
        let rows = cart_items::table
            .filter(cart_items::user_id.eq(user.value()))
            .filter(cart_items::id.eq_any(ids))
            .order(cart_items::id.asc())
            .select(CartItemRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(CartItemRow::into_domain).collect()
    }

    async fn set_quantity(
        &self,
        user: UserId,
        id: CartItemId,
        quantity: Quantity,
    ) -> anyhow::Result<Option<CartItem>> {
        let mut conn = self.db.conn().await?;
        let row = diesel::update(
            cart_items::table
                .find(id.value())
                .filter(cart_items::user_id.eq(user.value())),
        )
        .set(cart_items::quantity.eq(quantity_column(quantity)))
        .returning(CartItemRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db_error)?;
        row.map(CartItemRow::into_domain).transpose()
    }

    async fn remove(&self, user: UserId, id: CartItemId) -> anyhow::Result<bool> {
        let mut conn = self.db.conn().await?;
        let deleted = diesel::delete(
            cart_items::table
                .find(id.value())
                .filter(cart_items::user_id.eq(user.value())),
        )
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
        Ok(deleted > 0)
    }
}
