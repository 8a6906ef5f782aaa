use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{Coupon, CouponId, NewCoupon, OwnedCoupon, OwnedCouponId, UserId};

/// Why a coupon could not be downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadCouponError {
    #[error("coupon {0} not found")]
    NotFound(CouponId),
    #[error("the coupon has expired")]
    Expired,
    #[error("the coupon was already downloaded")]
    AlreadyDownloaded,
    /// Its issue limit is reached.
    #[error("no coupons are left")]
    Exhausted,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Coupon definitions and the coupons users own.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CouponRepository: Send + Sync {
    /// # Errors
    /// Only infrastructure failures.
    async fn create(&self, coupon: NewCoupon) -> anyhow::Result<Coupon>;

    /// # Errors
    /// Only infrastructure failures.
    async fn find(&self, id: CouponId) -> anyhow::Result<Option<Coupon>>;

    /// Coupons valid at `now`, not exhausted, and not yet downloaded by `user`, newest first.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn list_downloadable(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Coupon>>;

    /// Issues the coupon to the user: at most once per user, and never past the issue limit,
    /// whatever the concurrency (a conditional increment of the issued count plus a unique key).
    ///
    /// # Errors
    /// `NotFound`, `Expired`, `AlreadyDownloaded`, `Exhausted`; nothing changes on any of them.
    async fn download(
        &self,
        user: UserId,
        coupon: CouponId,
        now: OffsetDateTime,
    ) -> Result<OwnedCoupon, DownloadCouponError>;

    /// The user's coupons, used or not, newest first.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn list_owned(&self, user: UserId) -> anyhow::Result<Vec<OwnedCoupon>>;

    /// One of the user's coupons; `None` if it is not theirs.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn find_owned(
        &self,
        user: UserId,
        id: OwnedCouponId,
    ) -> anyhow::Result<Option<OwnedCoupon>>;
}
