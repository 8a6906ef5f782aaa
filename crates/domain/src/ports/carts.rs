use async_trait::async_trait;

use crate::model::{CartItem, CartItemId, CartLine, ProductId, Quantity, UserId};

/// Why a product could not be added to the cart.
#[derive(Debug, thiserror::Error)]
pub enum AddToCartError {
    /// The line would hold more than [`Quantity::MAX`] units.
    #[error("a cart line holds at most {} units", Quantity::MAX)]
    QuantityLimit,
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Users' carts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CartRepository: Send + Sync {
    /// Adds `quantity` of a product to the user's cart: a new line, or more units on the line
    /// that already holds the product (atomically, so concurrent adds are not lost).
    ///
    /// # Errors
    /// `QuantityLimit` when the line would pass 999 units; `ProductNotFound` for an unknown product.
    async fn add(
        &self,
        user: UserId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<CartItem, AddToCartError>;

    /// The user's cart lines with their products, oldest first.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn lines(&self, user: UserId) -> anyhow::Result<Vec<CartLine>>;

    /// The user's cart items among `ids`; another user's items are simply not returned.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn find_items(&self, user: UserId, ids: Vec<CartItemId>)
    -> anyhow::Result<Vec<CartItem>>;

    /// Sets a line's quantity; `None` if the user has no such line.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn set_quantity(
        &self,
        user: UserId,
        id: CartItemId,
        quantity: Quantity,
    ) -> anyhow::Result<Option<CartItem>>;

    /// Removes a line; `false` if the user had no such line.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn remove(&self, user: UserId, id: CartItemId) -> anyhow::Result<bool>;
}
