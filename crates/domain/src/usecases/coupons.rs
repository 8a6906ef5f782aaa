//! Downloading and listing coupons.

use std::sync::Arc;

use crate::model::{Coupon, CouponId, OwnedCoupon, UserId};
use crate::ports::{Clock, CouponRepository, DownloadCouponError};

use super::Ports;

#[derive(Debug, thiserror::Error)]
pub enum CouponError {
    #[error("coupon {0} not found")]
    NotFound(CouponId),
    #[error("the coupon has expired")]
    Expired,
    #[error("the coupon was already downloaded")]
    AlreadyDownloaded,
    #[error("no coupons are left")]
    Exhausted,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Coupons for buyers.
#[derive(Clone)]
pub struct Coupons {
    coupons: Arc<dyn CouponRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Coupons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Coupons")
    }
}

impl Coupons {
    pub fn new(ports: &Ports) -> Self {
        Self {
            coupons: ports.coupons.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Coupons the user can download now.
    pub async fn downloadable(&self, user: UserId) -> Result<Vec<Coupon>, CouponError> {
        Ok(self
            .coupons
            .list_downloadable(user, self.clock.now())
            .await?)
    }

    pub async fn download(
        &self,
        user: UserId,
        coupon: CouponId,
    ) -> Result<OwnedCoupon, CouponError> {
        self.coupons
            .download(user, coupon, self.clock.now())
            .await
            .map_err(|e| match e {
                DownloadCouponError::NotFound(id) => CouponError::NotFound(id),
                DownloadCouponError::Expired => CouponError::Expired,
                DownloadCouponError::AlreadyDownloaded => CouponError::AlreadyDownloaded,
                DownloadCouponError::Exhausted => CouponError::Exhausted,
                DownloadCouponError::Unknown(e) => CouponError::Unknown(e),
            })
    }

    pub async fn owned(&self, user: UserId) -> Result<Vec<OwnedCoupon>, CouponError> {
        Ok(self.coupons.list_owned(user).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::*;

    #[tokio::test]
    async fn download_conflicts_keep_their_meaning() {
        let mut m = Mocks::new();
        let mut answers = vec![
            DownloadCouponError::Exhausted,
            DownloadCouponError::AlreadyDownloaded,
            DownloadCouponError::Expired,
            DownloadCouponError::NotFound(CouponId::new(3)),
        ];
        m.coupons
            .expect_download()
            .times(4)
            .returning(move |_, _, _| Err(answers.remove(0)));
        let coupons = Coupons::new(&m.ports());
        let id = CouponId::new(3);
        assert!(matches!(
            coupons.download(USER, id).await,
            Err(CouponError::Exhausted)
        ));
        assert!(matches!(
            coupons.download(USER, id).await,
            Err(CouponError::AlreadyDownloaded)
        ));
        assert!(matches!(
            coupons.download(USER, id).await,
            Err(CouponError::Expired)
        ));
        assert!(matches!(
            coupons.download(USER, id).await,
            Err(CouponError::NotFound(_))
        ));
    }
}
