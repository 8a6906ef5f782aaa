//! The API's enumerations, mirrored from the domain so the OpenAPI document lists their values.

use domain::model::{
    CouponKind, OrderStatus, OwnedCouponStatus, PaymentStatus, PointEntryKind, ProductStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = ProductStatus)]
pub enum ProductStatusDto {
    Active,
    Inactive,
}

impl From<ProductStatus> for ProductStatusDto {
    fn from(status: ProductStatus) -> Self {
        match status {
            ProductStatus::Active => Self::Active,
            ProductStatus::Inactive => Self::Inactive,
        }
    }
}

impl From<ProductStatusDto> for ProductStatus {
    fn from(status: ProductStatusDto) -> Self {
        match status {
            ProductStatusDto::Active => Self::Active,
            ProductStatusDto::Inactive => Self::Inactive,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OrderStatus)]
pub enum OrderStatusDto {
    Created,
    Paid,
    Canceled,
    Expired,
}

impl From<OrderStatus> for OrderStatusDto {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Created => Self::Created,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Canceled => Self::Canceled,
            OrderStatus::Expired => Self::Expired,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = PaymentStatus)]
pub enum PaymentStatusDto {
    Ready,
    Confirming,
    Approved,
    Failed,
    Canceling,
    Canceled,
}

impl From<PaymentStatus> for PaymentStatusDto {
    fn from(status: PaymentStatus) -> Self {
        match status {
            PaymentStatus::Ready => Self::Ready,
            PaymentStatus::Confirming => Self::Confirming,
            PaymentStatus::Approved => Self::Approved,
            PaymentStatus::Failed => Self::Failed,
            PaymentStatus::Canceling => Self::Canceling,
            PaymentStatus::Canceled => Self::Canceled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = CouponKind)]
pub enum CouponKindDto {
    /// A fixed amount of won.
    Fixed,
    /// A percentage, optionally capped.
    Rate,
}

impl From<CouponKind> for CouponKindDto {
    fn from(kind: CouponKind) -> Self {
        match kind {
            CouponKind::Fixed { .. } => Self::Fixed,
            CouponKind::Rate { .. } => Self::Rate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OwnedCouponStatus)]
pub enum OwnedCouponStatusDto {
    Issued,
    Used,
}

impl From<OwnedCouponStatus> for OwnedCouponStatusDto {
    fn from(status: OwnedCouponStatus) -> Self {
        match status {
            OwnedCouponStatus::Issued => Self::Issued,
            OwnedCouponStatus::Used => Self::Used,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = PointEntryKind)]
pub enum PointEntryKindDto {
    Grant,
    Use,
    Refund,
    Earn,
    EarnRevoke,
}

impl From<PointEntryKind> for PointEntryKindDto {
    fn from(kind: PointEntryKind) -> Self {
        match kind {
            PointEntryKind::Grant => Self::Grant,
            PointEntryKind::Use => Self::Use,
            PointEntryKind::Refund => Self::Refund,
            PointEntryKind::Earn => Self::Earn,
            PointEntryKind::EarnRevoke => Self::EarnRevoke,
        }
    }
}
