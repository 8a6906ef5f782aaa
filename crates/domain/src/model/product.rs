//! Products of the catalog.

use serde::{Deserialize, Serialize};

use super::{Money, ProductId};

/// Only ACTIVE products can be ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Active,
    Inactive,
}

impl ProductStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "ACTIVE",
            ProductStatus::Inactive => "INACTIVE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(ProductStatus::Active),
            "INACTIVE" => Some(ProductStatus::Inactive),
            _ => None,
        }
    }
}

/// A product as stored. `selling_price <= price` and `stock >= 0` are kept by the constructors
/// below and by the database's constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub thumbnail_url: Option<String>,
    pub short_description: Option<String>,
    /// The list price.
    pub price: Money,
    /// What the buyer pays per unit.
    pub selling_price: Money,
    pub stock: u32,
    pub status: ProductStatus,
}

impl Product {
    pub fn is_orderable(&self) -> bool {
        self.status == ProductStatus::Active
    }
}

/// Why a product definition is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("name must be 1 to 200 characters, without control characters")]
    Name,
    #[error("sellingPrice ({selling}) cannot exceed price ({price})")]
    SellingAbovePrice { price: Money, selling: Money },
    #[error("price must be greater than zero")]
    ZeroPrice,
    #[error("stock must be between 0 and 1000000000")]
    Stock,
    #[error("{0} must be at most 1000 characters")]
    TooLong(&'static str),
    #[error("{0} contains a control character")]
    ControlCharacter(&'static str),
}

/// A product to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: String,
    pub thumbnail_url: Option<String>,
    pub short_description: Option<String>,
    pub price: Money,
    pub selling_price: Money,
    pub stock: u32,
}

const MAX_STOCK: u32 = 1_000_000_000;

fn optional_text(
    field: &'static str,
    text: Option<String>,
) -> Result<Option<String>, ProductError> {
    match text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > 1000 => Err(ProductError::TooLong(field)),
        Some(t) if super::has_control_chars(&t) => Err(ProductError::ControlCharacter(field)),
        other => Ok(other),
    }
}

impl NewProduct {
    /// Validates a product; `selling_price` defaults to `price`.
    pub fn new(
        name: &str,
        price: Money,
        selling_price: Option<Money>,
        stock: u32,
        thumbnail_url: Option<String>,
        short_description: Option<String>,
    ) -> Result<Self, ProductError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || super::has_control_chars(name) {
            return Err(ProductError::Name);
        }
        if price.is_zero() {
            return Err(ProductError::ZeroPrice);
        }
        let selling_price = selling_price.unwrap_or(price);
        if selling_price > price {
            return Err(ProductError::SellingAbovePrice {
                price,
                selling: selling_price,
            });
        }
        if stock > MAX_STOCK {
            return Err(ProductError::Stock);
        }
        Ok(Self {
            name: name.to_owned(),
            thumbnail_url: optional_text("thumbnailUrl", thumbnail_url)?,
            short_description: optional_text("shortDescription", short_description)?,
            price,
            selling_price,
            stock,
        })
    }
}

/// An admin's change to a product; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    pub price: Option<Money>,
    pub selling_price: Option<Money>,
    pub stock: Option<u32>,
    pub status: Option<ProductStatus>,
}

impl ProductPatch {
    /// Applies the patch to the current product, checking the result is still valid.
    pub fn apply_to(&self, current: &Product) -> Result<Product, ProductError> {
        let mut next = current.clone();
        if let Some(price) = self.price {
            next.price = price;
        }
        if let Some(selling) = self.selling_price {
            next.selling_price = selling;
        }
        if let Some(stock) = self.stock {
            next.stock = stock;
        }
        if let Some(status) = self.status {
            next.status = status;
        }
        if next.price.is_zero() {
            return Err(ProductError::ZeroPrice);
        }
        if next.selling_price > next.price {
            return Err(ProductError::SellingAbovePrice {
                price: next.price,
                selling: next.selling_price,
            });
        }
        if next.stock > MAX_STOCK {
            return Err(ProductError::Stock);
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn won(n: i64) -> Money {
        Money::new(n).unwrap()
    }

    #[test]
    fn selling_price_defaults_to_price_and_cannot_exceed_it() {
        let p = NewProduct::new("티셔츠", won(10_000), None, 5, None, None).unwrap();
        assert_eq!(p.selling_price, won(10_000));
        assert!(matches!(
            NewProduct::new("티셔츠", won(10_000), Some(won(10_001)), 5, None, None),
            Err(ProductError::SellingAbovePrice { .. })
        ));
        assert_eq!(
            NewProduct::new(" ", won(1), None, 0, None, None),
            Err(ProductError::Name)
        );
        assert_eq!(
            NewProduct::new("a\u{0}", won(1), None, 0, None, None),
            Err(ProductError::Name)
        );
        assert_eq!(
            NewProduct::new("a", won(1), None, 0, Some("x\u{0}".into()), None),
            Err(ProductError::ControlCharacter("thumbnailUrl"))
        );
    }

    #[test]
    fn a_patch_keeps_the_product_valid() {
        let current = Product {
            id: ProductId::new(1),
            name: "a".into(),
            thumbnail_url: None,
            short_description: None,
            price: won(1000),
            selling_price: won(900),
            stock: 1,
            status: ProductStatus::Active,
        };
        let lower_price = ProductPatch {
            price: Some(won(800)),
            ..ProductPatch::default()
        };
        assert!(lower_price.apply_to(&current).is_err());
        let both = ProductPatch {
            price: Some(won(800)),
            selling_price: Some(won(700)),
            ..ProductPatch::default()
        };
        assert_eq!(
            both.apply_to(&current).map(|p| p.selling_price),
            Ok(won(700))
        );
    }
}
