//! The catalog ([`ProductRepository`]).

use anyhow::Context as _;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::RunQueryDsl;
use domain::model::{
    Money, NewProduct, Page, PageLimit, Product, ProductId, ProductPatch, ProductStatus,
};
use domain::ports::{ProductRepository, UpdateProductError};

use crate::error::{db_error, violated_constraint};
use crate::rows::{ProductRow, to_i32};
use crate::schema::products;
use crate::store::PgStore;

#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewProductRow<'a> {
    name: &'a str,
    thumbnail_url: Option<&'a str>,
    short_description: Option<&'a str>,
    price: i64,
    selling_price: i64,
    stock: i32,
    status: &'static str,
}

/// The fields a patch sets; `None` leaves a column as it is.
#[derive(AsChangeset)]
#[diesel(table_name = products)]
struct ProductChanges {
    price: Option<i64>,
    selling_price: Option<i64>,
    stock: Option<i32>,
    status: Option<&'static str>,
}

#[async_trait]
impl ProductRepository for PgStore {
    async fn create(&self, product: NewProduct) -> anyhow::Result<Product> {
        let mut conn = self.db.conn().await?;
        let row = diesel::insert_into(products::table)
            .values(NewProductRow {
                name: &product.name,
                thumbnail_url: product.thumbnail_url.as_deref(),
                short_description: product.short_description.as_deref(),
                price: product.price.won(),
                selling_price: product.selling_price.won(),
                stock: to_i32(product.stock, "stock")?,
                status: ProductStatus::Active.as_str(),
            })
            .returning(ProductRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db_error)?;
        row.into_domain()
    }

    async fn update(
        &self,
        id: ProductId,
        patch: ProductPatch,
    ) -> Result<Product, UpdateProductError> {
        let mut conn = self.db.conn().await?;
        let changes = ProductChanges {
            price: patch.price.map(Money::won),
            selling_price: patch.selling_price.map(Money::won),
            stock: patch.stock.map(|s| to_i32(s, "stock")).transpose()?,
            status: patch.status.map(ProductStatus::as_str),
        };
        // One statement: the CHECK constraints judge the result against the row as it is now,
        // so a concurrent change cannot slip an invalid combination through.
        let updated = diesel::update(products::table.find(id.value()))
            .set((changes, products::updated_at.eq(diesel::dsl::now)))
            .returning(ProductRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional();
        match updated {
            Ok(Some(row)) => Ok(row.into_domain()?),
            Ok(None) => Err(UpdateProductError::NotFound(id)),
            Err(e)
                if violated_constraint(&e)
                    .is_some_and(|(kind, _)| kind == DatabaseErrorKind::CheckViolation) =>
            {
                Err(UpdateProductError::Invalid)
            }
            Err(e) => Err(UpdateProductError::Unknown(db_error(e))),
        }
    }

    async fn find(&self, id: ProductId) -> anyhow::Result<Option<Product>> {
        let mut conn = self.db.conn().await?;
        let row = products::table
            .find(id.value())
            .select(ProductRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db_error)?;
        row.map(ProductRow::into_domain).transpose()
    }

    async fn find_many(&self, ids: Vec<ProductId>) -> anyhow::Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.db.conn().await?;
        let ids: Vec<i64> = ids.into_iter().map(ProductId::value).collect();
        let rows = products::table
            .filter(products::id.eq_any(ids))
            .select(ProductRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(ProductRow::into_domain).collect()
    }

    async fn list(
        &self,
        after: Option<ProductId>,
        limit: PageLimit,
        active_only: bool,
    ) -> anyhow::Result<Page<Product, ProductId>> {
        let mut conn = self.db.conn().await?;
        let mut query = products::table
            .select(ProductRow::as_select())
            .order(products::id.asc())
            .limit(i64::from(limit.get()) + 1)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(products::id.gt(after.value()));
        }
        if active_only {
            query = query.filter(products::status.eq(ProductStatus::Active.as_str()));
        }
        let rows = query.load(&mut conn).await.map_err(db_error)?;
        let products = rows
            .into_iter()
            .map(ProductRow::into_domain)
            .collect::<anyhow::Result<Vec<_>>>()
            .context("listing products")?;
        Ok(Page::from_overfetch(products, limit, |p| p.id))
    }
}
