use async_trait::async_trait;

use crate::model::{NewProduct, Page, PageLimit, Product, ProductId, ProductPatch};

/// Why a product update did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProductError {
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// The store's constraints rejected the result (e.g. a concurrent price change made the
    /// selling price exceed the price).
    #[error("the update would make the product invalid")]
    Invalid,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The catalog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new ACTIVE product.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn create(&self, product: NewProduct) -> anyhow::Result<Product>;

    /// Applies the fields present in `patch` in one statement and returns the product after it.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Invalid` if the stored result would break a constraint.
    async fn update(
        &self,
        id: ProductId,
        patch: ProductPatch,
    ) -> Result<Product, UpdateProductError>;

    /// # Errors
    /// Only infrastructure failures.
    async fn find(&self, id: ProductId) -> anyhow::Result<Option<Product>>;

    /// The products among `ids` that exist, in any order.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn find_many(&self, ids: Vec<ProductId>) -> anyhow::Result<Vec<Product>>;

    /// Products in id order after `after`; only ACTIVE ones when `active_only`.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn list(
        &self,
        after: Option<ProductId>,
        limit: PageLimit,
        active_only: bool,
    ) -> anyhow::Result<Page<Product, ProductId>>;
}
