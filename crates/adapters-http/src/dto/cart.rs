//! The cart.

use domain::model::{CartItem, CartView, Money, ProductId, Quantity};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::ProductStatusDto;
use super::{id, quantity};
use crate::problem::ApiError;

/// `POST /v1/cart/items`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddCartItemRequest {
    #[schema(example = 1)]
    pub product_id: i64,
    /// 1 to 999; added to the line that already holds the product.
    #[schema(example = 2)]
    pub quantity: i64,
}

/// A validated `POST /v1/cart/items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddCartItem {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

impl TryFrom<AddCartItemRequest> for AddCartItem {
    type Error = ApiError;

    fn try_from(body: AddCartItemRequest) -> Result<Self, ApiError> {
        Ok(Self {
            product_id: ProductId::new(id("productId", body.product_id)?),
            quantity: quantity("quantity", body.quantity)?,
        })
    }
}

/// `PATCH /v1/cart/items/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCartItemRequest {
    /// 1 to 999: the line's new quantity.
    #[schema(example = 3)]
    pub quantity: i64,
}

impl TryFrom<UpdateCartItemRequest> for Quantity {
    type Error = ApiError;

    fn try_from(body: UpdateCartItemRequest) -> Result<Self, ApiError> {
        quantity("quantity", body.quantity)
    }
}

/// A cart line as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemView {
    /// The cart item id (use it in `cartItemIds`).
    pub id: i64,
    pub product_id: i64,
    pub quantity: u32,
}

impl From<CartItem> for CartItemView {
    fn from(item: CartItem) -> Self {
        Self {
            id: item.id.value(),
            product_id: item.product_id.value(),
            quantity: item.quantity.get(),
        }
    }
}

/// A cart line priced now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView {
    pub id: i64,
    pub product_id: i64,
    pub product_name: String,
    /// The product's current selling price, won.
    pub unit_price: i64,
    pub quantity: u32,
    pub line_total: i64,
    /// An INACTIVE product stays in the cart but cannot be ordered.
    pub product_status: ProductStatusDto,
}

/// `GET /v1/cart`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartBody {
    pub items: Vec<CartLineView>,
    /// Sum of the line totals, won.
    pub total: i64,
}

impl From<CartView> for CartBody {
    fn from(cart: CartView) -> Self {
        Self {
            items: cart
                .lines
                .into_iter()
                .map(|line| CartLineView {
                    line_total: line.line_total().map_or(0, Money::won),
                    id: line.item.id.value(),
                    product_id: line.item.product_id.value(),
                    product_name: line.product_name,
                    unit_price: line.unit_price.won(),
                    quantity: line.item.quantity.get(),
                    product_status: line.product_status.into(),
                })
                .collect(),
            total: cart.total.won(),
        }
    }
}
