//! Browsing products.

use std::sync::Arc;

use crate::model::{Page, PageLimit, Product, ProductId};
use crate::ports::ProductRepository;

use super::Ports;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("product {0} not found")]
    NotFound(ProductId),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Product listing and detail for buyers.
#[derive(Clone)]
pub struct Catalog {
    products: Arc<dyn ProductRepository>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Catalog")
    }
}

impl Catalog {
    pub fn new(ports: &Ports) -> Self {
        Self {
            products: ports.products.clone(),
        }
    }

    /// Active products in id order.
    pub async fn list(
        &self,
        after: Option<ProductId>,
        limit: PageLimit,
    ) -> Result<Page<Product, ProductId>, CatalogError> {
        Ok(self.products.list(after, limit, true).await?)
    }

    /// Any product by id (an inactive one is shown, but cannot be ordered).
    pub async fn get(&self, id: ProductId) -> Result<Product, CatalogError> {
        self.products
            .find(id)
            .await?
            .ok_or(CatalogError::NotFound(id))
    }
}
