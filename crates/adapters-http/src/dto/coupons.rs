//! Coupons: definitions (admin), downloads and the buyer's own.

use domain::model::{Coupon, CouponKind, Money, OwnedCoupon, Percent, ProductId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::enums::{CouponKindDto, OwnedCouponStatusDto};
use super::{id, money, parse_rfc3339, rfc3339};
use crate::problem::ApiError;

/// A coupon definition.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponView {
    pub id: i64,
    pub name: String,
    pub kind: CouponKindDto,
    /// FIXED: the discount, won.
    pub amount: Option<i64>,
    /// RATE: percent of the eligible lines.
    pub percent: Option<u8>,
    /// RATE: the most it takes off, won.
    pub max_discount: Option<i64>,
    /// The eligible lines must add up to at least this, won.
    pub min_order_amount: i64,
    #[schema(format = DateTime)]
    pub valid_until: String,
    /// Products it applies to; empty = every product.
    pub product_ids: Vec<i64>,
    /// How many can be downloaded in total; `null` = unlimited.
    pub issue_limit: Option<u32>,
    pub issued_count: u32,
}

impl From<Coupon> for CouponView {
    fn from(c: Coupon) -> Self {
        let (amount, percent, max_discount) = match c.kind {
            CouponKind::Fixed { amount } => (Some(amount.won()), None, None),
            CouponKind::Rate {
                percent,
                max_discount,
            } => (None, Some(percent.value()), max_discount.map(Money::won)),
        };
        Self {
            id: c.id.value(),
            name: c.name,
            kind: c.kind.into(),
            amount,
            percent,
            max_discount,
            min_order_amount: c.min_order_amount.won(),
            valid_until: rfc3339(c.valid_until),
            product_ids: c.product_ids.into_iter().map(ProductId::value).collect(),
            issue_limit: c.issue_limit,
            issued_count: c.issued_count,
        }
    }
}

/// `GET /v1/coupons`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponList {
    pub items: Vec<CouponView>,
}

/// A coupon the buyer owns.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnedCouponView {
    /// The owned coupon id (use it as `ownedCouponId`).
    pub id: i64,
    pub coupon_id: i64,
    pub name: String,
    pub kind: CouponKindDto,
    pub status: OwnedCouponStatusDto,
    #[schema(format = DateTime)]
    pub valid_until: String,
}

impl From<OwnedCoupon> for OwnedCouponView {
    fn from(o: OwnedCoupon) -> Self {
        Self {
            id: o.id.value(),
            coupon_id: o.coupon.id.value(),
            name: o.coupon.name,
            kind: o.coupon.kind.into(),
            status: o.status.into(),
            valid_until: rfc3339(o.coupon.valid_until),
        }
    }
}

/// `GET /v1/owned-coupons`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnedCouponList {
    pub items: Vec<OwnedCouponView>,
}

/// `POST /admin/v1/coupons`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCouponRequest {
    #[schema(example = "신규 가입 5,000원")]
    pub name: String,
    pub kind: CouponKindDto,
    /// FIXED only: the discount, won.
    #[schema(example = 5000)]
    pub amount: Option<i64>,
    /// RATE only: 1 to 100.
    pub percent: Option<i64>,
    /// RATE only: the most it takes off, won.
    pub max_discount: Option<i64>,
    /// Default 0.
    pub min_order_amount: Option<i64>,
    /// RFC 3339, in the future.
    #[schema(example = "2030-12-31T23:59:59+09:00")]
    #[schema(format = DateTime)]
    pub valid_until: String,
    /// Products it applies to; absent or empty = every product.
    pub product_ids: Option<Vec<i64>>,
    /// Total downloads allowed; absent = unlimited.
    pub issue_limit: Option<i64>,
}

/// A validated coupon definition, in the shape `Admin::create_coupon` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponDraft {
    pub name: String,
    pub kind: CouponKind,
    pub min_order_amount: Money,
    pub valid_until: OffsetDateTime,
    pub product_ids: Vec<ProductId>,
    pub issue_limit: Option<u32>,
}

impl TryFrom<CreateCouponRequest> for CouponDraft {
    type Error = ApiError;

    fn try_from(body: CreateCouponRequest) -> Result<Self, ApiError> {
        let kind = match body.kind {
            CouponKindDto::Fixed => {
                if body.percent.is_some() || body.max_discount.is_some() {
                    return Err(ApiError::validation(
                        "percent and maxDiscount are only for RATE coupons",
                    ));
                }
                let amount = body
                    .amount
                    .ok_or_else(|| ApiError::validation("amount: required for a FIXED coupon"))?;
                CouponKind::Fixed {
                    amount: money("amount", amount)?,
                }
            }
            CouponKindDto::Rate => {
                if body.amount.is_some() {
                    return Err(ApiError::validation("amount is only for FIXED coupons"));
                }
                let percent = body
                    .percent
                    .ok_or_else(|| ApiError::validation("percent: required for a RATE coupon"))?;
                CouponKind::Rate {
                    percent: Percent::new(percent)
                        .map_err(|e| ApiError::validation(format!("percent: {e}")))?,
                    max_discount: body
                        .max_discount
                        .map(|won| money("maxDiscount", won))
                        .transpose()?,
                }
            }
        };
        let issue_limit = body
            .issue_limit
            .map(|n| {
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ApiError::validation("issueLimit: must be at least 1"))
            })
            .transpose()?;
        Ok(Self {
            name: body.name,
            kind,
            min_order_amount: body
                .min_order_amount
                .map_or(Ok(Money::ZERO), |won| money("minOrderAmount", won))?,
            valid_until: parse_rfc3339("validUntil", &body.valid_until)?,
            product_ids: body
                .product_ids
                .unwrap_or_default()
                .into_iter()
                .map(|n| id("productIds", n).map(ProductId::new))
                .collect::<Result<_, _>>()?,
            issue_limit,
        })
    }
}
