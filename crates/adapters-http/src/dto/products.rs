//! Products.

use domain::model::{NewProduct, Product, ProductPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::ProductStatusDto;
use super::money;
use crate::problem::ApiError;

/// A product as buyers and admins see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    /// List price, won.
    pub price: i64,
    /// What the buyer pays per unit, won (≤ price).
    pub selling_price: i64,
    pub stock: u32,
    pub status: ProductStatusDto,
    pub thumbnail_url: Option<String>,
    pub short_description: Option<String>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.value(),
            name: p.name,
            price: p.price.won(),
            selling_price: p.selling_price.won(),
            stock: p.stock,
            status: p.status.into(),
            thumbnail_url: p.thumbnail_url,
            short_description: p.short_description,
        }
    }
}

/// One page of products.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `POST /admin/v1/products`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProductRequest {
    #[schema(example = "운동화")]
    pub name: String,
    #[schema(example = 60000)]
    pub price: i64,
    /// Defaults to `price`.
    #[schema(example = 59000)]
    pub selling_price: Option<i64>,
    #[schema(example = 100)]
    pub stock: i64,
    pub thumbnail_url: Option<String>,
    pub short_description: Option<String>,
}

fn stock(value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .map_err(|_| ApiError::validation("stock: must be between 0 and 1000000000"))
}

impl TryFrom<CreateProductRequest> for NewProduct {
    type Error = ApiError;

    fn try_from(body: CreateProductRequest) -> Result<Self, ApiError> {
        let selling_price = body
            .selling_price
            .map(|won| money("sellingPrice", won))
            .transpose()?;
        NewProduct::new(
            &body.name,
            money("price", body.price)?,
            selling_price,
            stock(body.stock)?,
            body.thumbnail_url,
            body.short_description,
        )
        .map_err(|e| ApiError::validation(e.to_string()))
    }
}

/// `PATCH /admin/v1/products/{id}`: the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProductRequest {
    pub price: Option<i64>,
    pub selling_price: Option<i64>,
    pub stock: Option<i64>,
    pub status: Option<ProductStatusDto>,
}

impl TryFrom<UpdateProductRequest> for ProductPatch {
    type Error = ApiError;

    fn try_from(body: UpdateProductRequest) -> Result<Self, ApiError> {
        let patch = ProductPatch {
            price: body.price.map(|won| money("price", won)).transpose()?,
            selling_price: body
                .selling_price
                .map(|won| money("sellingPrice", won))
                .transpose()?,
            stock: body.stock.map(stock).transpose()?,
            status: body.status.map(Into::into),
        };
        if patch == ProductPatch::default() {
            return Err(ApiError::validation(
                "send at least one of price, sellingPrice, stock, status",
            ));
        }
        Ok(patch)
    }
}
