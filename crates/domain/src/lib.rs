//! # The order domain of a shop backend
//!
//! Pure business code: entities and value objects ([`model`]), the ports the outside world must
//! implement ([`ports`]), and the use cases that run every flow through those ports
//! ([`usecases`]). No I/O happens here: the database, HTTP and the payment gateway live in
//! adapter crates, and tests use the `mockall` mocks this crate generates with
//! `features = ["mocks"]`.
//!
//! Money is integer won ([`model::Money`]); every id is a newtype; invalid values cannot be built.
//!
//! ## Placing and paying an order against mocks
//!
//! ```
//! # #[cfg(feature = "mocks")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use domain::model::*;
//! use domain::ports::*;
//! use domain::usecases::{Ports, Policies, Services, ConfirmOutcome};
//!
//! let now = time::OffsetDateTime::now_utc();
//! let buyer = UserId::new(7);
//! let shoes = Product {
//!     id: ProductId::new(1), name: "운동화".into(), thumbnail_url: None, short_description: None,
//!     price: Money::new(60_000)?, selling_price: Money::new(59_000)?, stock: 3,
//!     status: ProductStatus::Active,
//! };
//!
//! let mut products = MockProductRepository::new();
//! products.expect_find().returning(move |_| Ok(Some(shoes.clone())));
//!
//! // The order repository hands back what it was given, as a stored order.
//! let stored = Arc::new(std::sync::Mutex::new(None::<Order>));
//! let mut orders = MockOrderRepository::new();
//! let keep = stored.clone();
//! orders.expect_create().returning(move |new| {
//!     let order = Order {
//!         id: OrderId::new(1), key: new.key, user_id: new.user_id, name: new.name,
//!         status: OrderStatus::Created,
//!         items: new.items.into_iter().map(|i| OrderItem {
//!             product_id: i.product_id, product_name: i.product_name, thumbnail_url: None,
//!             unit_price: i.unit_price, quantity: i.quantity, line_total: i.line_total,
//!             discount: Money::ZERO,
//!         }).collect(),
//!         amounts: OrderAmounts { items_total: new.items_total, shipping_fee: new.shipping_fee,
//!                                 ..OrderAmounts::default() },
//!         shipping_address: None, source_cart_item_ids: vec![],
//!         created_at: new.created_at, expires_at: new.expires_at, paid_at: None, canceled_at: None,
//!     };
//!     *keep.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Some(order.clone());
//!     Ok(order)
//! });
//! let read = stored.clone();
//! let current = move || read.lock().ok().and_then(|o| o.clone());
//! let find = current.clone();
//! orders.expect_find_by_key().returning(move |_| Ok(find()));
//! let find = current.clone();
//! orders.expect_find_by_id().returning(move |_| Ok(find()));
//!
//! // The payment repository: a READY payment of 59,000 + 3,000 shipping, then approval.
//! let ready = move |status: PaymentStatus| Payment {
//!     id: PaymentId::new(9), order_id: OrderId::new(1), status,
//!     origin_amount: Money::new(59_000).unwrap_or_default(), owned_coupon_id: None,
//!     coupon_discount: Money::ZERO, used_point: Money::ZERO,
//!     shipping_fee: Money::new(3_000).unwrap_or_default(), amount: Money::new(62_000).unwrap_or_default(),
//!     payment_key: PaymentKey::new("pk_demo").ok(), method: None, approved_at: None, failure: None,
//!     cancel_amount: None, revoked_point: Money::ZERO, created_at: now, updated_at: now,
//! };
//! let mut payments = MockPaymentRepository::new();
//! payments.expect_prepare().returning(move |_| Ok(ready(PaymentStatus::Ready)));
//! payments.expect_latest_for_order().times(1).returning(move |_| Ok(Some(ready(PaymentStatus::Ready))));
//! payments.expect_reserve().returning(move |_| Ok(ready(PaymentStatus::Confirming)));
//! payments.expect_approve().returning(|_| Ok(()));
//! payments.expect_latest_for_order().returning(move |_| Ok(Some(ready(PaymentStatus::Approved))));
//!
//! let mut gateway = MockPaymentGateway::new();
//! gateway.expect_confirm().times(1).returning(move |_| {
//!     GatewayOutcome::Approved(GatewayApproval { method: "카드".into(), approved_at: now })
//! });
//! let mut clock = MockClock::new();
//! clock.expect_now().returning(move || now);
//!
//! let ports = Ports {
//!     products: Arc::new(products), orders: Arc::new(orders), payments: Arc::new(payments),
//!     gateway: Arc::new(gateway), clock: Arc::new(clock),
//!     carts: Arc::new(MockCartRepository::new()), coupons: Arc::new(MockCouponRepository::new()),
//!     points: Arc::new(MockPointRepository::new()), idempotency: Arc::new(MockIdempotencyStore::new()),
//!     outbox: Arc::new(MockOutboxRepository::new()), publisher: Arc::new(MockEventPublisher::new()),
//! };
//! let services = Services::new(&ports, Policies::default());
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! # runtime.block_on(async {
//! let key = services.ordering.place_order(buyer, ProductId::new(1), Quantity::new(1)?).await?;
//! let address = ShippingAddress::new("홍길동", "010-1234-5678", "06236", "서울 강남구 테헤란로 1", None)?;
//! let payment = services.payments.request(buyer, domain::usecases::RequestPayment {
//!     order_key: key, owned_coupon_id: None, use_point: Money::ZERO, shipping_address: address,
//! }).await?;
//! let outcome = services.payments.confirm(buyer, key, PaymentKey::new("pk_demo")?, payment.amount).await?;
//! assert!(matches!(outcome, ConfirmOutcome::Paid(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "mocks"))]
//! # fn main() {}
//! ```

pub mod model;
pub mod ports;
pub mod usecases;
