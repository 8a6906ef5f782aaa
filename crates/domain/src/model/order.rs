//! Orders, their items and the order status machine.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CartItemId, Money, OrderId, OrderKey, ProductId, Quantity, ShippingAddress, UserId};

/// Where an order is in its life.
///
/// ```text
/// CREATED ──pay──▶ PAID ──cancel──▶ CANCELED
///    │ └──cancel──────────────────▶ CANCELED
///    └──expire──▶ EXPIRED
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Created,
    Paid,
    Canceled,
    Expired,
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    /// Its payment was approved.
    Pay,
    /// The buyer (or an admin) cancels it.
    Cancel,
    /// It stayed unpaid past its expiry.
    Expire,
}

/// An event that the order's current status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order in status {from:?} cannot take the event {event:?}")]
pub struct InvalidOrderTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Created,
        OrderStatus::Paid,
        OrderStatus::Canceled,
        OrderStatus::Expired,
    ];

    /// The one place that says which order transitions exist.
    pub fn apply(self, event: OrderEvent) -> Result<OrderStatus, InvalidOrderTransition> {
        use OrderEvent as E;
        use OrderStatus as S;
        match (self, event) {
            (S::Created, E::Pay) => Ok(S::Paid),
            (S::Created | S::Paid, E::Cancel) => Ok(S::Canceled),
            (S::Created, E::Expire) => Ok(S::Expired),
            (from, event) => Err(InvalidOrderTransition { from, event }),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "CREATED",
            OrderStatus::Paid => "PAID",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A line of an order: a snapshot of the product at order time, so later price or name changes
/// never alter an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub product_id: ProductId,
    pub product_name: String,
    pub thumbnail_url: Option<String>,
    pub unit_price: Money,
    pub quantity: Quantity,
    pub line_total: Money,
    /// This line's share of the coupon discount (zero until a payment with a coupon is requested).
    pub discount: Money,
}

/// The money of an order. Before payment only `items_total` and the estimated `shipping_fee` are
/// set; the rest is filled from the approved payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderAmounts {
    pub items_total: Money,
    pub shipping_fee: Money,
    pub coupon_discount: Money,
    pub used_point: Money,
    pub paid_amount: Money,
    /// Points credited when the order was paid (revoked if it is canceled).
    pub earned_point: Money,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub key: OrderKey,
    pub user_id: UserId,
    /// `"<first product> 외 N건"` when there are N further lines.
    pub name: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub amounts: OrderAmounts,
    pub shipping_address: Option<ShippingAddress>,
    /// The cart lines this order was made from; removed from the cart when it is paid.
    pub source_cart_item_ids: Vec<CartItemId>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub canceled_at: Option<OffsetDateTime>,
}

impl Order {
    /// Whether `user` may see this order. Another user's order reads as not found.
    pub fn is_owned_by(&self, user: UserId) -> bool {
        self.user_id == user
    }

    /// The units to take from (or give back to) stock, one entry per product, sorted by product
    /// id so concurrent reservations lock rows in the same order.
    pub fn stock_lines(&self) -> Vec<(ProductId, Quantity)> {
        let mut lines: Vec<(ProductId, Quantity)> = self
            .items
            .iter()
            .map(|item| (item.product_id, item.quantity))
            .collect();
        lines.sort_by_key(|(id, _)| *id);
        lines
    }
}

/// The display name of an order: the first product's name, plus "외 N건" for the other lines.
pub fn order_display_name(first_product: &str, line_count: usize) -> String {
    match line_count {
        0 | 1 => first_product.to_owned(),
        n => format!("{first_product} 외 {}건", n - 1),
    }
}

/// A line of an order to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderItem {
    pub product_id: ProductId,
    pub product_name: String,
    pub thumbnail_url: Option<String>,
    pub unit_price: Money,
    pub quantity: Quantity,
    pub line_total: Money,
}

/// An order to create, in status CREATED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub key: OrderKey,
    pub user_id: UserId,
    pub name: String,
    pub items: Vec<NewOrderItem>,
    pub items_total: Money,
    pub shipping_fee: Money,
    pub source_cart_item_ids: Vec<CartItemId>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A row of the order list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub key: OrderKey,
    pub name: String,
    pub status: OrderStatus,
    pub paid_amount: Money,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [OrderEvent; 3] = [OrderEvent::Pay, OrderEvent::Cancel, OrderEvent::Expire];

    fn expected(from: OrderStatus, event: OrderEvent) -> Option<OrderStatus> {
        use OrderEvent as E;
        use OrderStatus as S;
        match (from, event) {
            (S::Created, E::Pay) => Some(S::Paid),
            (S::Created | S::Paid, E::Cancel) => Some(S::Canceled),
            (S::Created, E::Expire) => Some(S::Expired),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_event_pair() {
        let mut allowed = 0;
        for from in OrderStatus::ALL {
            for event in EVENTS {
                match expected(from, event) {
                    Some(to) => {
                        allowed += 1;
                        assert_eq!(from.apply(event), Ok(to), "{from:?} + {event:?}");
                    }
                    None => assert_eq!(
                        from.apply(event),
                        Err(InvalidOrderTransition { from, event }),
                        "{from:?} + {event:?}"
                    ),
                }
            }
        }
        assert_eq!(allowed, 4);
    }

    #[test]
    fn terminal_states_take_no_event() {
        for event in EVENTS {
            assert!(OrderStatus::Canceled.apply(event).is_err());
            assert!(OrderStatus::Expired.apply(event).is_err());
        }
    }

    #[test]
    fn status_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("paid"), None);
    }

    #[test]
    fn display_name_counts_other_lines() {
        assert_eq!(order_display_name("양말", 1), "양말");
        assert_eq!(order_display_name("양말", 3), "양말 외 2건");
    }
}
