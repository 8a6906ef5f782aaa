//! A user's cart.

use super::{CartItemId, Money, ProductId, ProductStatus, Quantity, UserId};

/// One line of a cart: a product and how many. Adding a product already in the cart adds to
/// its quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartItem {
    pub id: CartItemId,
    pub user_id: UserId,
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A cart line joined with its product, as the cart page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub item: CartItem,
    pub product_name: String,
    pub unit_price: Money,
    pub product_status: ProductStatus,
}

impl CartLine {
    /// `None` only if the amount overflows, which valid prices and quantities cannot do.
    pub fn line_total(&self) -> Option<Money> {
        self.unit_price.checked_mul(self.item.quantity.get())
    }
}

/// The cart page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    pub lines: Vec<CartLine>,
    pub total: Money,
}
