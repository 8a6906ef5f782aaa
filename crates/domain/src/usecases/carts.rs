//! The buyer's cart.

use std::sync::Arc;

use crate::model::{CartItem, CartItemId, CartView, Money, ProductId, Quantity, UserId};
use crate::ports::{AddToCartError, CartRepository, ProductRepository};

use super::Ports;

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    #[error("product {0} is not on sale")]
    ProductUnavailable(ProductId),
    #[error("cart item {0} not found")]
    ItemNotFound(CartItemId),
    #[error("a cart line holds at most {} units", Quantity::MAX)]
    QuantityLimit,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Cart operations.
#[derive(Clone)]
pub struct Carts {
    carts: Arc<dyn CartRepository>,
    products: Arc<dyn ProductRepository>,
}

impl std::fmt::Debug for Carts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Carts")
    }
}

impl Carts {
    pub fn new(ports: &Ports) -> Self {
        Self {
            carts: ports.carts.clone(),
            products: ports.products.clone(),
        }
    }

    /// The cart with each line's current price and the total.
    pub async fn view(&self, user: UserId) -> Result<CartView, CartError> {
        let lines = self.carts.lines(user).await?;
        let total = Money::checked_sum(
            lines
                .iter()
                .filter_map(super::super::model::CartLine::line_total),
        )
        .ok_or_else(|| anyhow::anyhow!("cart total overflows"))?;
        Ok(CartView { lines, total })
    }

    /// Adds units of an active product; an existing line grows.
    pub async fn add(
        &self,
        user: UserId,
        product_id: ProductId,
        quantity: Quantity,
    ) -> Result<CartItem, CartError> {
        let product = self
            .products
            .find(product_id)
            .await?
            .ok_or(CartError::ProductNotFound(product_id))?;
        if !product.is_orderable() {
            return Err(CartError::ProductUnavailable(product_id));
        }
        self.carts
            .add(user, product_id, quantity)
            .await
            .map_err(|e| match e {
                AddToCartError::QuantityLimit => CartError::QuantityLimit,
                AddToCartError::ProductNotFound(id) => CartError::ProductNotFound(id),
                AddToCartError::Unknown(e) => CartError::Unknown(e),
            })
    }

    pub async fn set_quantity(
        &self,
        user: UserId,
        id: CartItemId,
        quantity: Quantity,
    ) -> Result<CartItem, CartError> {
        self.carts
            .set_quantity(user, id, quantity)
            .await?
            .ok_or(CartError::ItemNotFound(id))
    }

    pub async fn remove(&self, user: UserId, id: CartItemId) -> Result<(), CartError> {
        if self.carts.remove(user, id).await? {
            Ok(())
        } else {
            Err(CartError::ItemNotFound(id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;

    #[tokio::test]
    async fn inactive_products_cannot_be_added() {
        let mut m = Mocks::new();
        m.products
            .expect_find()
            .returning(|_| Ok(Some(product(1, 1_000, 5, false))));
        m.carts.expect_add().never();
        let carts = Carts::new(&m.ports());
        let err = carts
            .add(USER, ProductId::new(1), qty(1))
            .await
            .unwrap_err();
        assert!(matches!(err, CartError::ProductUnavailable(_)));
    }

    #[tokio::test]
    async fn adding_past_the_limit_is_a_typed_error() {
        let mut m = Mocks::new();
        m.products
            .expect_find()
            .returning(|_| Ok(Some(product(1, 1_000, 5, true))));
        m.carts
            .expect_add()
            .returning(|_, _, _| Err(AddToCartError::QuantityLimit));
        let carts = Carts::new(&m.ports());
        assert!(matches!(
            carts.add(USER, ProductId::new(1), qty(500)).await,
            Err(CartError::QuantityLimit)
        ));
    }

    #[tokio::test]
    async fn another_users_line_is_not_found() {
        let mut m = Mocks::new();
        m.carts.expect_remove().returning(|_, _| Ok(false));
        m.carts.expect_set_quantity().returning(|_, _, _| Ok(None));
        let carts = Carts::new(&m.ports());
        assert!(matches!(
            carts.remove(USER, CartItemId::new(9)).await,
            Err(CartError::ItemNotFound(_))
        ));
        assert!(matches!(
            carts.set_quantity(USER, CartItemId::new(9), qty(2)).await,
            Err(CartError::ItemNotFound(_))
        ));
    }
}
