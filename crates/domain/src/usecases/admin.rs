//! Admin operations: products, coupons, point grants.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::model::{
    Coupon, CouponError, CouponKind, Money, NewCoupon, NewProduct, Product, ProductError,
    ProductId, ProductPatch, UserId, validate_reason,
};
use crate::ports::{
    Clock, CouponRepository, PointRepository, ProductRepository, UpdateProductError,
};

use super::Ports;

#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    #[error(transparent)]
    Invalid(#[from] ProductError),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateProductUseCaseError {
    #[error("product {0} not found")]
    NotFound(ProductId),
    #[error(transparent)]
    Invalid(#[from] ProductError),
    /// A concurrent change made this one invalid.
    #[error("the product changed meanwhile; the update would make it invalid")]
    Conflict,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateCouponError {
    #[error(transparent)]
    Invalid(#[from] CouponError),
    #[error("product {0} not found")]
    UnknownProduct(ProductId),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum GrantPointsError {
    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("reason must be 1 to 200 characters")]
    Reason,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Admin use cases.
#[derive(Clone)]
pub struct Admin {
    products: Arc<dyn ProductRepository>,
    coupons: Arc<dyn CouponRepository>,
    points: Arc<dyn PointRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admin")
    }
}

impl Admin {
    pub fn new(ports: &Ports) -> Self {
        Self {
            products: ports.products.clone(),
            coupons: ports.coupons.clone(),
            points: ports.points.clone(),
            clock: ports.clock.clone(),
        }
    }

    pub async fn create_product(&self, product: NewProduct) -> Result<Product, CreateProductError> {
        Ok(self.products.create(product).await?)
    }

    /// Checks the patch against the current product, then applies it in one statement (the
    /// database's constraints catch a concurrent change that would make it invalid).
    pub async fn update_product(
        &self,
        id: ProductId,
        patch: ProductPatch,
    ) -> Result<Product, UpdateProductUseCaseError> {
        let current = self
            .products
            .find(id)
            .await?
            .ok_or(UpdateProductUseCaseError::NotFound(id))?;
        patch.apply_to(&current)?;
        self.products.update(id, patch).await.map_err(|e| match e {
            UpdateProductError::NotFound(id) => UpdateProductUseCaseError::NotFound(id),
            UpdateProductError::Invalid => UpdateProductUseCaseError::Conflict,
            UpdateProductError::Unknown(e) => UpdateProductUseCaseError::Unknown(e),
        })
    }

    /// Creates a coupon after checking that every target product exists.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_coupon(
        &self,
        name: &str,
        kind: CouponKind,
        min_order_amount: Money,
        valid_until: OffsetDateTime,
        product_ids: Vec<ProductId>,
        issue_limit: Option<u32>,
    ) -> Result<Coupon, CreateCouponError> {
        let coupon = NewCoupon::new(
            name,
            kind,
            min_order_amount,
            valid_until,
            product_ids,
            issue_limit,
            self.clock.now(),
        )?;
        if !coupon.product_ids.is_empty() {
            let found = self.products.find_many(coupon.product_ids.clone()).await?;
            if let Some(missing) = coupon
                .product_ids
                .iter()
                .find(|id| !found.iter().any(|p| p.id == **id))
            {
                return Err(CreateCouponError::UnknownProduct(*missing));
            }
        }
        Ok(self.coupons.create(coupon).await?)
    }

    /// Grants points; returns the new balance.
    pub async fn grant_points(
        &self,
        user: UserId,
        amount: Money,
        reason: &str,
    ) -> Result<Money, GrantPointsError> {
        if amount.is_zero() {
            return Err(GrantPointsError::ZeroAmount);
        }
        let reason = validate_reason(reason).ok_or(GrantPointsError::Reason)?;
        Ok(self
            .points
            .grant(user, amount, reason, self.clock.now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;

    #[tokio::test]
    async fn coupon_targets_must_exist() {
        let mut m = Mocks::new();
        m.products
            .expect_find_many()
            .returning(|_| Ok(vec![product(1, 1_000, 1, true)]));
        m.coupons.expect_create().never();
        let admin = Admin::new(&m.ports());
        let err = admin
            .create_coupon(
                "c",
                CouponKind::Fixed { amount: won(1_000) },
                Money::ZERO,
                now() + time::Duration::days(1),
                vec![ProductId::new(1), ProductId::new(2)],
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CreateCouponError::UnknownProduct(id) if id == ProductId::new(2)));
    }

    #[tokio::test]
    async fn a_patch_that_breaks_the_product_is_refused_before_writing() {
        let mut m = Mocks::new();
        m.products
            .expect_find()
            .returning(|_| Ok(Some(product(1, 1_000, 1, true))));
        m.products.expect_update().never();
        let admin = Admin::new(&m.ports());
        let patch = ProductPatch {
            selling_price: Some(won(2_000)),
            ..ProductPatch::default()
        };
        let err = admin
            .update_product(ProductId::new(1), patch)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            UpdateProductUseCaseError::Invalid(ProductError::SellingAbovePrice { .. })
        ));
    }

    #[tokio::test]
    async fn grants_need_an_amount_and_a_reason() {
        let mut m = Mocks::new();
        m.points
            .expect_grant()
            .returning(|_, amount, _, _| Ok(amount));
        let admin = Admin::new(&m.ports());
        assert!(matches!(
            admin.grant_points(USER, Money::ZERO, "x").await,
            Err(GrantPointsError::ZeroAmount)
        ));
        assert!(matches!(
            admin.grant_points(USER, won(10), " ").await,
            Err(GrantPointsError::Reason)
        ));
        assert_eq!(
            admin.grant_points(USER, won(10), "welcome").await.unwrap(),
            won(10)
        );
    }
}
