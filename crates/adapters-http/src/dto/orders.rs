//! Orders: placing, the checkout page, the list and the detail.

use domain::model::{
    CartItemId, OrderItem, OrderKey, OrderStatus, OrderSummary, Page, ProductId, Quantity,
    ShippingAddress,
};
use domain::usecases::{Checkout, OrderDetail, UsableCoupon};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::enums::{CouponKindDto, OrderStatusDto, PaymentStatusDto};
use super::{id, pagination, quantity, rfc3339, rfc3339_opt, text};
use crate::problem::ApiError;

/// `POST /v1/orders`: one product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderRequest {
    #[schema(example = 1)]
    pub product_id: i64,
    /// 1 to 999.
    #[schema(example = 1)]
    pub quantity: i64,
}

/// A validated `POST /v1/orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceOrder {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

impl TryFrom<PlaceOrderRequest> for PlaceOrder {
    type Error = ApiError;

    fn try_from(body: PlaceOrderRequest) -> Result<Self, ApiError> {
        Ok(Self {
            product_id: ProductId::new(id("productId", body.product_id)?),
            quantity: quantity("quantity", body.quantity)?,
        })
    }
}

/// `POST /v1/cart-orders`: some lines of the caller's cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceCartOrderRequest {
    /// Cart item ids (1 to 100), in the order the lines should appear.
    #[schema(example = json!([11, 12]))]
    pub cart_item_ids: Vec<i64>,
}

impl TryFrom<PlaceCartOrderRequest> for Vec<CartItemId> {
    type Error = ApiError;

    fn try_from(body: PlaceCartOrderRequest) -> Result<Self, ApiError> {
        body.cart_item_ids
            .into_iter()
            .map(|n| id("cartItemIds", n).map(CartItemId::new))
            .collect()
    }
}

/// `201` of both ways to place an order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    #[schema(example = "01JDZ8Q6W3V9K1T3M4X5Y6Z7A8")]
    pub order_key: String,
}

/// An order line, as snapshotted when the order was placed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemView {
    pub product_id: i64,
    pub product_name: String,
    pub thumbnail_url: Option<String>,
    pub unit_price: i64,
    pub quantity: u32,
    pub line_total: i64,
    /// This line's share of the coupon discount, won.
    pub discount: i64,
}

impl From<OrderItem> for OrderItemView {
    fn from(item: OrderItem) -> Self {
        Self {
            product_id: item.product_id.value(),
            product_name: item.product_name,
            thumbnail_url: item.thumbnail_url,
            unit_price: item.unit_price.won(),
            quantity: item.quantity.get(),
            line_total: item.line_total.won(),
            discount: item.discount.won(),
        }
    }
}

/// A coupon the buyer owns that works on this order, with what it would take off.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsableCouponView {
    pub owned_coupon_id: i64,
    pub coupon_id: i64,
    pub name: String,
    pub kind: CouponKindDto,
    /// The discount on this order, won.
    pub discount: i64,
}

impl From<UsableCoupon> for UsableCouponView {
    fn from(usable: UsableCoupon) -> Self {
        Self {
            owned_coupon_id: usable.owned.id.value(),
            coupon_id: usable.owned.coupon.id.value(),
            name: usable.owned.coupon.name,
            kind: usable.owned.coupon.kind.into(),
            discount: usable.discount.won(),
        }
    }
}

/// `GET /v1/orders/{orderKey}/checkout`: what the payment page needs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutView {
    pub order_key: String,
    pub name: String,
    pub status: OrderStatusDto,
    pub items: Vec<OrderItemView>,
    pub items_total: i64,
    /// The fee without a coupon; a coupon can bring the total under the free-shipping line.
    pub shipping_fee: i64,
    /// Best discount first.
    pub usable_coupons: Vec<UsableCouponView>,
    pub point_balance: i64,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<Checkout> for CheckoutView {
    fn from(c: Checkout) -> Self {
        Self {
            order_key: c.order.key.to_string(),
            name: c.order.name,
            status: c.order.status.into(),
            items: c.order.items.into_iter().map(Into::into).collect(),
            items_total: c.order.amounts.items_total.won(),
            shipping_fee: c.shipping_fee.won(),
            usable_coupons: c.usable_coupons.into_iter().map(Into::into).collect(),
            point_balance: c.point_balance.won(),
            expires_at: rfc3339(c.order.expires_at),
        }
    }
}

/// `GET /v1/orders` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// `PAID` (default: the seed's "paid orders"), `CREATED`, `CANCELED`, `EXPIRED`, or `ALL`.
    #[param(example = "PAID")]
    pub status: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A validated `GET /v1/orders` query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOrders {
    /// `None`: every status.
    pub status: Option<OrderStatus>,
    pub after: Option<OrderKey>,
    pub limit: domain::model::PageLimit,
}

impl TryFrom<ListOrdersQuery> for ListOrders {
    type Error = ApiError;

    fn try_from(query: ListOrdersQuery) -> Result<Self, ApiError> {
        let status = match query.status.as_deref() {
            None => Some(OrderStatus::Paid),
            Some("ALL") => None,
            Some(other) => Some(OrderStatus::parse(other).ok_or_else(|| {
                ApiError::validation("status: one of PAID, CREATED, CANCELED, EXPIRED, ALL")
            })?),
        };
        Ok(Self {
            status,
            after: pagination::key_cursor(query.cursor.as_deref())?,
            limit: pagination::limit(query.limit)?,
        })
    }
}

/// An order in the list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummaryView {
    pub order_key: String,
    /// "`<first product>` 외 N건" for several lines.
    pub name: String,
    pub status: OrderStatusDto,
    pub paid_amount: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub paid_at: Option<String>,
}

/// `GET /v1/orders`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub items: Vec<OrderSummaryView>,
    pub next_cursor: Option<String>,
}

impl From<Page<OrderSummary, OrderKey>> for OrderPage {
    fn from(page: Page<OrderSummary, OrderKey>) -> Self {
        Self {
            items: page
                .items
                .into_iter()
                .map(|o| OrderSummaryView {
                    order_key: o.key.to_string(),
                    name: o.name,
                    status: o.status.into(),
                    paid_amount: o.paid_amount.won(),
                    created_at: rfc3339(o.created_at),
                    paid_at: rfc3339_opt(o.paid_at),
                })
                .collect(),
            next_cursor: page.next.map(|key| key.to_string()),
        }
    }
}

/// Where the order ships.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: Option<String>,
}

impl From<ShippingAddress> for AddressView {
    fn from(a: ShippingAddress) -> Self {
        Self {
            recipient: a.recipient().to_owned(),
            phone: a.phone().to_owned(),
            zip_code: a.zip_code().to_owned(),
            address1: a.address1().to_owned(),
            address2: a.address2().map(str::to_owned),
        }
    }
}

/// The order's latest payment, in short.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummaryView {
    pub status: PaymentStatusDto,
    /// How the buyer paid (e.g. "카드"), once approved.
    pub method: Option<String>,
    #[schema(format = DateTime)]
    pub approved_at: Option<String>,
}

/// `GET /v1/orders/{orderKey}`, and the `200` of confirm and cancel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetailView {
    pub order_key: String,
    pub name: String,
    pub status: OrderStatusDto,
    pub items: Vec<OrderItemView>,
    pub items_total: i64,
    pub coupon_discount: i64,
    pub used_point: i64,
    pub shipping_fee: i64,
    pub paid_amount: i64,
    /// Set once a payment was requested.
    pub shipping_address: Option<AddressView>,
    /// `null` until a payment was requested.
    pub payment: Option<PaymentSummaryView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// An unpaid order expires then.
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub paid_at: Option<String>,
    #[schema(format = DateTime)]
    pub canceled_at: Option<String>,
}

impl From<OrderDetail> for OrderDetailView {
    fn from(detail: OrderDetail) -> Self {
        let order = detail.order;
        Self {
            order_key: order.key.to_string(),
            name: order.name,
            status: order.status.into(),
            items: order.items.into_iter().map(Into::into).collect(),
            items_total: order.amounts.items_total.won(),
            coupon_discount: order.amounts.coupon_discount.won(),
            used_point: order.amounts.used_point.won(),
            shipping_fee: order.amounts.shipping_fee.won(),
            paid_amount: order.amounts.paid_amount.won(),
            shipping_address: order.shipping_address.map(Into::into),
            payment: detail.payment.map(|p| PaymentSummaryView {
                status: p.status.into(),
                method: p.method,
                approved_at: rfc3339_opt(p.approved_at),
            }),
            created_at: rfc3339(order.created_at),
            expires_at: rfc3339(order.expires_at),
            paid_at: rfc3339_opt(order.paid_at),
            canceled_at: rfc3339_opt(order.canceled_at),
        }
    }
}

/// `POST /v1/orders/{orderKey}/cancel`: the body is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelOrderRequest {
    /// Sent to the gateway with the refund (default "고객 요청").
    #[schema(example = "단순 변심")]
    pub reason: Option<String>,
}

/// The reason used when the buyer gives none.
pub const DEFAULT_CANCEL_REASON: &str = "고객 요청";

impl CancelOrderRequest {
    /// The reason to send, checked: 1 to 200 characters.
    pub fn reason(&self) -> Result<String, ApiError> {
        self.reason.as_deref().map_or_else(
            || Ok(DEFAULT_CANCEL_REASON.to_owned()),
            |r| text("reason", r, 200),
        )
    }
}

/// `202` of a cancel whose refund the gateway has not confirmed yet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelPending {
    /// Always `CANCEL_PENDING`.
    #[schema(example = "CANCEL_PENDING")]
    pub status: String,
    pub order_key: String,
}
