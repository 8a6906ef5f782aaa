//! Rows as diesel reads them, and their mapping to domain types. The domain has no diesel
//! derives: everything stored is validated again through the domain's constructors here, so a
//! corrupt row is an error, never an invalid domain value.

use anyhow::Context as _;
use diesel::pg::Pg;
use diesel::prelude::*;
use domain::model::{
    CartItemId, Coupon, CouponId, CouponKind, Money, Order, OrderAmounts, OrderId, OrderItem,
    OrderKey, OrderStatus, OwnedCoupon, OwnedCouponId, OwnedCouponStatus, Payment, PaymentFailure,
    PaymentId, PaymentKey, PaymentStatus, Percent, PointEntry, PointEntryId, PointEntryKind,
    Product, ProductId, ProductStatus, Quantity, ShippingAddress, UserId,
};
use time::OffsetDateTime;

use crate::schema::{
    coupons, order_items, orders, owned_coupons, payments, point_ledger, products,
};

/// A stored amount of money.
pub(crate) fn money(won: i64, what: &'static str) -> anyhow::Result<Money> {
    Money::new(won).with_context(|| format!("stored {what} is not an amount of money"))
}

pub(crate) fn quantity(units: i32) -> anyhow::Result<Quantity> {
    Quantity::new(i64::from(units)).context("stored quantity out of range")
}

/// A quantity for the database: at most 999, far within `i32`.
pub(crate) fn quantity_column(quantity: Quantity) -> i32 {
    i32::try_from(quantity.get()).unwrap_or(i32::MAX)
}

pub(crate) fn count(value: i32, what: &'static str) -> anyhow::Result<u32> {
    u32::try_from(value).with_context(|| format!("stored {what} is negative"))
}

/// A count for the database: `u32` values past `i32::MAX` are refused rather than wrapped.
pub(crate) fn to_i32(value: u32, what: &'static str) -> anyhow::Result<i32> {
    i32::try_from(value).with_context(|| format!("{what} {value} is too large to store"))
}

pub(crate) fn order_key(text: &str) -> anyhow::Result<OrderKey> {
    OrderKey::parse(text).context("stored order key")
}

pub(crate) fn order_status(text: &str) -> anyhow::Result<OrderStatus> {
    OrderStatus::parse(text).with_context(|| format!("unknown stored order status {text:?}"))
}

pub(crate) fn payment_status(text: &str) -> anyhow::Result<PaymentStatus> {
    PaymentStatus::parse(text).with_context(|| format!("unknown stored payment status {text:?}"))
}

/// The SQL list of payment statuses that count as an order's one live payment (the partial
/// unique index `payments_one_live_per_order`).
pub(crate) const LIVE_PAYMENT_STATUSES: [&str; 4] =
    ["READY", "CONFIRMING", "APPROVED", "CANCELING"];

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub(crate) struct ProductRow {
    pub id: i64,
    pub name: String,
    pub thumbnail_url: Option<String>,
    pub short_description: Option<String>,
    pub price: i64,
    pub selling_price: i64,
    pub stock: i32,
    pub status: String,
}

impl ProductRow {
    pub(crate) fn into_domain(self) -> anyhow::Result<Product> {
        Ok(Product {
            id: ProductId::new(self.id),
            name: self.name,
            thumbnail_url: self.thumbnail_url,
            short_description: self.short_description,
            price: money(self.price, "price")?,
            selling_price: money(self.selling_price, "selling price")?,
            stock: count(self.stock, "stock")?,
            status: ProductStatus::parse(&self.status)
                .with_context(|| format!("unknown stored product status {:?}", self.status))?,
        })
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = orders, check_for_backend(Pg))]
pub(crate) struct OrderRow {
    pub id: i64,
    pub order_key: String,
    pub user_id: i64,
    pub name: String,
    pub status: String,
    pub items_total: i64,
    pub shipping_fee: i64,
    pub coupon_discount: i64,
    pub used_point: i64,
    pub paid_amount: i64,
    pub earned_point: i64,
    pub ship_recipient: Option<String>,
    pub ship_phone: Option<String>,
    pub ship_zip_code: Option<String>,
    pub ship_address1: Option<String>,
    pub ship_address2: Option<String>,
    pub source_cart_item_ids: Vec<i64>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub canceled_at: Option<OffsetDateTime>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_items, check_for_backend(Pg))]
pub(crate) struct OrderItemRow {
    pub product_id: i64,
    pub product_name: String,
    pub thumbnail_url: Option<String>,
    pub unit_price: i64,
    pub quantity: i32,
    pub line_total: i64,
    pub discount: i64,
}

impl OrderItemRow {
    fn into_domain(self) -> anyhow::Result<OrderItem> {
        Ok(OrderItem {
            product_id: ProductId::new(self.product_id),
            product_name: self.product_name,
            thumbnail_url: self.thumbnail_url,
            unit_price: money(self.unit_price, "unit price")?,
            quantity: quantity(self.quantity)?,
            line_total: money(self.line_total, "line total")?,
            discount: money(self.discount, "line discount")?,
        })
    }
}

impl OrderRow {
    /// The order with its items (already in line order: queries sort by `line_no`).
    pub(crate) fn into_domain(self, items: Vec<OrderItemRow>) -> anyhow::Result<Order> {
        let shipping_address = match (
            self.ship_recipient,
            self.ship_phone,
            self.ship_zip_code,
            self.ship_address1,
        ) {
            (Some(recipient), Some(phone), Some(zip_code), Some(address1)) => Some(
                ShippingAddress::new(
                    &recipient,
                    &phone,
                    &zip_code,
                    &address1,
                    self.ship_address2.as_deref(),
                )
                .context("stored shipping address")?,
            ),
            _ => None,
        };
        Ok(Order {
            id: OrderId::new(self.id),
            key: order_key(&self.order_key)?,
            user_id: UserId::new(self.user_id),
            name: self.name,
            status: order_status(&self.status)?,
            items: items
                .into_iter()
                .map(OrderItemRow::into_domain)
                .collect::<anyhow::Result<_>>()?,
            amounts: OrderAmounts {
                items_total: money(self.items_total, "items total")?,
                shipping_fee: money(self.shipping_fee, "shipping fee")?,
                coupon_discount: money(self.coupon_discount, "coupon discount")?,
                used_point: money(self.used_point, "used points")?,
                paid_amount: money(self.paid_amount, "paid amount")?,
                earned_point: money(self.earned_point, "earned points")?,
            },
            shipping_address,
            source_cart_item_ids: self
                .source_cart_item_ids
                .into_iter()
                .map(CartItemId::new)
                .collect(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            paid_at: self.paid_at,
            canceled_at: self.canceled_at,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = payments, check_for_backend(Pg))]
pub(crate) struct PaymentRow {
    pub id: i64,
    pub order_id: i64,
    pub status: String,
    pub origin_amount: i64,
    pub owned_coupon_id: Option<i64>,
    pub coupon_discount: i64,
    pub used_point: i64,
    pub shipping_fee: i64,
    pub amount: i64,
    pub payment_key: Option<String>,
    pub method: Option<String>,
    pub approved_at: Option<OffsetDateTime>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub cancel_amount: Option<i64>,
    pub revoked_point: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl PaymentRow {
    pub(crate) fn into_domain(self) -> anyhow::Result<Payment> {
        let failure = match (self.failure_code, self.failure_message) {
            (Some(code), Some(message)) => Some(PaymentFailure { code, message }),
            _ => None,
        };
        Ok(Payment {
            id: PaymentId::new(self.id),
            order_id: OrderId::new(self.order_id),
            status: payment_status(&self.status)?,
            origin_amount: money(self.origin_amount, "origin amount")?,
            owned_coupon_id: self.owned_coupon_id.map(OwnedCouponId::new),
            coupon_discount: money(self.coupon_discount, "coupon discount")?,
            used_point: money(self.used_point, "used points")?,
            shipping_fee: money(self.shipping_fee, "shipping fee")?,
            amount: money(self.amount, "payment amount")?,
            payment_key: self
                .payment_key
                .map(PaymentKey::new)
                .transpose()
                .context("stored payment key")?,
            method: self.method,
            approved_at: self.approved_at,
            failure,
            cancel_amount: self
                .cancel_amount
                .map(|won| money(won, "cancel amount"))
                .transpose()?,
            revoked_point: money(self.revoked_point, "revoked points")?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = coupons, check_for_backend(Pg))]
pub(crate) struct CouponRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub amount: Option<i64>,
    pub percent: Option<i16>,
    pub max_discount: Option<i64>,
    pub min_order_amount: i64,
    pub valid_until: OffsetDateTime,
    pub issue_limit: Option<i32>,
    pub issued_count: i32,
}

impl CouponRow {
    pub(crate) fn into_domain(self, product_ids: Vec<ProductId>) -> anyhow::Result<Coupon> {
        let kind = match (self.kind.as_str(), self.amount, self.percent) {
            ("FIXED", Some(amount), None) => CouponKind::Fixed {
                amount: money(amount, "coupon amount")?,
            },
            ("RATE", None, Some(percent)) => CouponKind::Rate {
                percent: Percent::new(i64::from(percent)).context("stored coupon percent")?,
                max_discount: self
                    .max_discount
                    .map(|won| money(won, "coupon cap"))
                    .transpose()?,
            },
            (kind, _, _) => anyhow::bail!("stored coupon {} has an invalid kind {kind:?}", self.id),
        };
        Ok(Coupon {
            id: CouponId::new(self.id),
            name: self.name,
            kind,
            min_order_amount: money(self.min_order_amount, "minimum order amount")?,
            valid_until: self.valid_until,
            product_ids,
            issue_limit: self
                .issue_limit
                .map(|limit| count(limit, "issue limit"))
                .transpose()?,
            issued_count: count(self.issued_count, "issued count")?,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = owned_coupons, check_for_backend(Pg))]
pub(crate) struct OwnedCouponRow {
    pub id: i64,
    pub user_id: i64,
    pub status: String,
    pub used_order_id: Option<i64>,
}

impl OwnedCouponRow {
    pub(crate) fn into_domain(self, coupon: Coupon) -> anyhow::Result<OwnedCoupon> {
        let status = match self.status.as_str() {
            "ISSUED" => OwnedCouponStatus::Issued,
            "USED" => OwnedCouponStatus::Used,
            other => anyhow::bail!("unknown stored owned coupon status {other:?}"),
        };
        Ok(OwnedCoupon {
            id: OwnedCouponId::new(self.id),
            user_id: UserId::new(self.user_id),
            coupon,
            status,
            used_order_id: self.used_order_id.map(OrderId::new),
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = point_ledger, check_for_backend(Pg))]
pub(crate) struct PointEntryRow {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub order_key: Option<String>,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

impl PointEntryRow {
    pub(crate) fn into_domain(self) -> anyhow::Result<PointEntry> {
        Ok(PointEntry {
            id: PointEntryId::new(self.id),
            kind: PointEntryKind::parse(&self.kind)
                .with_context(|| format!("unknown stored point entry kind {:?}", self.kind))?,
            amount: money(self.amount, "point amount")?,
            balance_after: money(self.balance_after, "point balance")?,
            order_key: self.order_key.as_deref().map(order_key).transpose()?,
            reason: self.reason,
            created_at: self.created_at,
        })
    }
}
