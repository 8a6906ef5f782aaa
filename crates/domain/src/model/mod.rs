//! Entities, value objects and the rules that need no I/O.

mod address;
mod cart;
mod coupon;
mod ids;
mod money;
mod order;
mod page;
mod payment;
mod point;
pub mod pricing;
mod product;
mod quantity;
mod shipping;
mod text;

pub use address::{AddressError, ShippingAddress};
pub use cart::{CartItem, CartLine, CartView};
pub use coupon::{Coupon, CouponError, CouponKind, NewCoupon, OwnedCoupon, OwnedCouponStatus};
pub use ids::{
    CartItemId, CouponId, OrderId, OrderKey, OrderKeyError, OwnedCouponId, PaymentId, PaymentKey,
    PaymentKeyError, PointEntryId, ProductId, UserId,
};
pub use money::{Money, MoneyError, Percent, PercentError};
pub use order::{
    InvalidOrderTransition, NewOrder, NewOrderItem, Order, OrderAmounts, OrderEvent, OrderItem,
    OrderStatus, OrderSummary, order_display_name,
};
pub use page::{Page, PageLimit, PageLimitError};
pub use payment::{InvalidPaymentTransition, Payment, PaymentEvent, PaymentFailure, PaymentStatus};
pub use point::{EarningPolicy, PointEntry, PointEntryKind, validate_reason};
pub use pricing::{PricedLine, Pricing, PricingError};
pub use product::{NewProduct, Product, ProductError, ProductPatch, ProductStatus};
pub use quantity::{Quantity, QuantityError};
pub use shipping::ShippingPolicy;
pub use text::has_control_chars;
