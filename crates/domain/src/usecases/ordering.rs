//! Placing orders and reading them: the seed's five endpoints.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::model::{
    CartItemId, Money, NewOrder, NewOrderItem, Order, OrderKey, OrderStatus, OrderSummary,
    OwnedCoupon, Page, PageLimit, Payment, PricedLine, Product, ProductId, Quantity, UserId,
    order_display_name, pricing,
};
use crate::ports::{
    CartRepository, Clock, CouponRepository, OrderRepository, PaymentRepository, PointRepository,
    ProductRepository,
};

use super::{Policies, Ports};

/// Why a single-product order was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    #[error("product {0} is not on sale")]
    ProductUnavailable(ProductId),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why a cart order was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceCartOrderError {
    #[error("select at least one cart item")]
    NothingSelected,
    #[error("at most {0} cart items can be ordered at once")]
    TooManyItems(usize),
    #[error("cart item {0} not found")]
    CartItemNotFound(CartItemId),
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    #[error("product {0} is not on sale")]
    ProductUnavailable(ProductId),
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why the checkout page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("order not found")]
    NotFound,
    #[error("the order is {0:?} and cannot be paid")]
    NotPayable(OrderStatus),
    #[error("the order has expired")]
    Expired,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Why an order could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrderQueryError {
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// A coupon the buyer can use on this order, and what it would take off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsableCoupon {
    pub owned: OwnedCoupon,
    pub discount: Money,
}

/// The page shown before payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub order: Order,
    /// Best discount first.
    pub usable_coupons: Vec<UsableCoupon>,
    pub point_balance: Money,
    /// The fee without a coupon; a coupon can bring the total under the free-shipping line.
    pub shipping_fee: Money,
}

/// An order with its latest payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    pub order: Order,
    pub payment: Option<Payment>,
}

/// Placing and reading orders.
#[derive(Clone)]
pub struct Ordering {
    products: Arc<dyn ProductRepository>,
    carts: Arc<dyn CartRepository>,
    orders: Arc<dyn OrderRepository>,
    payments: Arc<dyn PaymentRepository>,
    coupons: Arc<dyn CouponRepository>,
    points: Arc<dyn PointRepository>,
    clock: Arc<dyn Clock>,
    policies: Policies,
}

impl std::fmt::Debug for Ordering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ordering")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// At most this many lines in one cart order.
const MAX_CART_ORDER_ITEMS: usize = 100;

impl Ordering {
    pub fn new(ports: &Ports, policies: Policies) -> Self {
        Self {
            products: ports.products.clone(),
            carts: ports.carts.clone(),
            orders: ports.orders.clone(),
            payments: ports.payments.clone(),
            coupons: ports.coupons.clone(),
            points: ports.points.clone(),
            clock: ports.clock.clone(),
            policies,
        }
    }

    /// 상품 주문: one product, snapshotted into a CREATED order. Stock is not taken until payment.
    #[tracing::instrument(skip_all, fields(user.id = %user, product.id = %product_id))]
    pub async fn place_order(
        &self,
        user: UserId,
        product_id: ProductId,
        quantity: Quantity,
    ) -> Result<OrderKey, PlaceOrderError> {
        let product = self
            .products
            .find(product_id)
            .await?
            .ok_or(PlaceOrderError::ProductNotFound(product_id))?;
        if !product.is_orderable() {
            return Err(PlaceOrderError::ProductUnavailable(product_id));
        }
        let order = self.new_order(user, vec![(product, quantity)], Vec::new())?;
        Ok(self.orders.create(order).await?.key)
    }

    /// 장바구니 주문: only the selected lines of the caller's cart, in the order given.
    #[tracing::instrument(skip_all, fields(user.id = %user))]
    pub async fn place_cart_order(
        &self,
        user: UserId,
        cart_item_ids: Vec<CartItemId>,
    ) -> Result<OrderKey, PlaceCartOrderError> {
        let mut ids = cart_item_ids;
        if ids.is_empty() {
            return Err(PlaceCartOrderError::NothingSelected);
        }
        if ids.len() > MAX_CART_ORDER_ITEMS {
            return Err(PlaceCartOrderError::TooManyItems(MAX_CART_ORDER_ITEMS));
        }
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));

        let items = self.carts.find_items(user, ids.clone()).await?;
        let mut selected = Vec::with_capacity(ids.len());
        for id in &ids {
            let item = items
                .iter()
                .find(|i| i.id == *id)
                .ok_or(PlaceCartOrderError::CartItemNotFound(*id))?;
            selected.push(item.clone());
        }
        let products = self
            .products
            .find_many(selected.iter().map(|i| i.product_id).collect())
            .await?;
        let mut lines = Vec::with_capacity(selected.len());
        for item in &selected {
            let product = products
                .iter()
                .find(|p| p.id == item.product_id)
                .ok_or(PlaceCartOrderError::ProductNotFound(item.product_id))?;
            if !product.is_orderable() {
                return Err(PlaceCartOrderError::ProductUnavailable(product.id));
            }
            lines.push((product.clone(), item.quantity));
        }
        let order = self.new_order(user, lines, ids)?;
        Ok(self.orders.create(order).await?.key)
    }

    /// Builds the CREATED order: price snapshot per line, display name, estimated shipping, expiry.
    fn new_order(
        &self,
        user: UserId,
        lines: Vec<(Product, Quantity)>,
        source_cart_item_ids: Vec<CartItemId>,
    ) -> anyhow::Result<NewOrder> {
        let now = self.clock.now();
        let first_name = lines
            .first()
            .map(|(p, _)| p.name.clone())
            .unwrap_or_default();
        let name = order_display_name(&first_name, lines.len());
        let mut items = Vec::with_capacity(lines.len());
        for (product, quantity) in lines {
            let line_total = product
                .selling_price
                .checked_mul(quantity.get())
                .ok_or_else(|| anyhow::anyhow!("line total overflows"))?;
            items.push(NewOrderItem {
                product_id: product.id,
                product_name: product.name,
                thumbnail_url: product.thumbnail_url,
                unit_price: product.selling_price,
                quantity,
                line_total,
            });
        }
        let items_total = Money::checked_sum(items.iter().map(|i| i.line_total))
            .ok_or_else(|| anyhow::anyhow!("total overflows"))?;
        Ok(NewOrder {
            key: OrderKey::generate(now),
            user_id: user,
            name,
            items,
            items_total,
            shipping_fee: self.policies.shipping.fee_for(items_total),
            source_cart_item_ids,
            created_at: now,
            expires_at: now + self.policies.order_ttl,
        })
    }

    /// 결제 전 주문 화면: the CREATED order, the coupons usable on it with their discount, the
    /// point balance and the shipping fee.
    #[tracing::instrument(skip_all, fields(user.id = %user, order.key = %key))]
    pub async fn checkout(&self, user: UserId, key: OrderKey) -> Result<Checkout, CheckoutError> {
        let order = self.owned_order(user, key).await.map_err(|e| match e {
            OrderQueryError::NotFound => CheckoutError::NotFound,
            OrderQueryError::Unknown(e) => CheckoutError::Unknown(e),
        })?;
        let now = self.clock.now();
        ensure_payable(&order, now).map_err(|status| match status {
            Some(status) => CheckoutError::NotPayable(status),
            None => CheckoutError::Expired,
        })?;
        let owned = self.coupons.list_owned(user).await?;
        let usable_coupons = usable_coupons(&order, owned, now);
        let point_balance = self.points.balance(user).await?;
        let shipping_fee = order.amounts.shipping_fee;
        Ok(Checkout {
            order,
            usable_coupons,
            point_balance,
            shipping_fee,
        })
    }

    /// 주문 목록: the caller's orders, newest first.
    pub async fn list(
        &self,
        user: UserId,
        status: Option<OrderStatus>,
        after: Option<OrderKey>,
        limit: PageLimit,
    ) -> Result<Page<OrderSummary, OrderKey>, OrderQueryError> {
        Ok(self
            .orders
            .list_for_user(user, status, after, limit)
            .await?)
    }

    /// 주문 상세: any status, with the latest payment.
    pub async fn detail(
        &self,
        user: UserId,
        key: OrderKey,
    ) -> Result<OrderDetail, OrderQueryError> {
        let order = self.owned_order(user, key).await?;
        let payment = self.payments.latest_for_order(order.id).await?;
        Ok(OrderDetail { order, payment })
    }

    async fn owned_order(&self, user: UserId, key: OrderKey) -> Result<Order, OrderQueryError> {
        match self.orders.find_by_key(key).await? {
            Some(order) if order.is_owned_by(user) => Ok(order),
            _ => Err(OrderQueryError::NotFound),
        }
    }
}

/// `Ok` if the order can still be paid; `Err(Some(status))` if its status forbids it,
/// `Err(None)` if it is CREATED but past its expiry.
pub(crate) fn ensure_payable(
    order: &Order,
    now: OffsetDateTime,
) -> Result<(), Option<OrderStatus>> {
    if order.status != OrderStatus::Created {
        return Err(Some(order.status));
    }
    if now >= order.expires_at {
        return Err(None);
    }
    Ok(())
}

pub(crate) fn priced_lines(order: &Order) -> Vec<PricedLine> {
    order
        .items
        .iter()
        .map(|i| PricedLine {
            product_id: i.product_id,
            line_total: i.line_total,
        })
        .collect()
}

/// The owned coupons usable on this order now, best discount first.
fn usable_coupons(
    order: &Order,
    owned: Vec<OwnedCoupon>,
    now: OffsetDateTime,
) -> Vec<UsableCoupon> {
    let lines = priced_lines(order);
    let mut usable: Vec<UsableCoupon> = owned
        .into_iter()
        .filter(|c| c.is_usable_at(now))
        .filter_map(|owned| {
            let discount = pricing::coupon_discount(&lines, &owned.coupon).ok()?;
            Some(UsableCoupon { owned, discount })
        })
        .collect();
    usable.sort_by(|a, b| {
        b.discount
            .cmp(&a.discount)
            .then(a.owned.id.cmp(&b.owned.id))
    });
    usable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CartItem, CouponKind, OwnedCouponStatus};
    use crate::usecases::test_support::*;
    use mockall::predicate::eq;

    #[tokio::test]
    async fn place_order_snapshots_the_product() {
        let mut m = Mocks::new();
        m.products
            .expect_find()
            .with(eq(ProductId::new(1)))
            .returning(|_| Ok(Some(product(1, 12_000, 0, true))));
        m.orders
            .expect_create()
            .withf(|o| {
                o.items.len() == 1
                    && o.items[0].unit_price == won(12_000)
                    && o.items_total == won(36_000)
                    && o.shipping_fee == won(3_000)
                    && o.name == "product 1"
                    && o.expires_at == now() + time::Duration::minutes(30)
                    && o.source_cart_item_ids.is_empty()
            })
            .returning(|o| Ok(order_from(o, 7)));
        let ordering = Ordering::new(&m.ports(), Policies::default());
        ordering
            .place_order(USER, ProductId::new(1), qty(3))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn place_order_refuses_missing_and_inactive_products() {
        let mut m = Mocks::new();
        m.products
            .expect_find()
            .with(eq(ProductId::new(1)))
            .returning(|_| Ok(None));
        m.products
            .expect_find()
            .with(eq(ProductId::new(2)))
            .returning(|_| Ok(Some(product(2, 1_000, 5, false))));
        m.orders.expect_create().never();
        let ordering = Ordering::new(&m.ports(), Policies::default());
        assert!(matches!(
            ordering.place_order(USER, ProductId::new(1), qty(1)).await,
            Err(PlaceOrderError::ProductNotFound(_))
        ));
        assert!(matches!(
            ordering.place_order(USER, ProductId::new(2), qty(1)).await,
            Err(PlaceOrderError::ProductUnavailable(_))
        ));
    }

    fn cart_item(id: i64, product: i64, quantity: i64) -> CartItem {
        CartItem {
            id: CartItemId::new(id),
            user_id: USER,
            product_id: ProductId::new(product),
            quantity: qty(quantity),
        }
    }

    #[tokio::test]
    async fn cart_order_takes_only_the_selected_lines() {
        let mut m = Mocks::new();
        m.carts
            .expect_find_items()
            .withf(|user, ids| *user == USER && ids == &[CartItemId::new(11), CartItemId::new(12)])
            .returning(|_, _| Ok(vec![cart_item(12, 2, 1), cart_item(11, 1, 2)]));
        m.products.expect_find_many().returning(|_| {
            Ok(vec![
                product(1, 10_000, 5, true),
                product(2, 40_000, 5, true),
            ])
        });
        m.orders
            .expect_create()
            .withf(|o| {
                o.items.len() == 2
                    && o.items[0].product_id == ProductId::new(1)
                    && o.items_total == won(60_000)
                    && o.shipping_fee == Money::ZERO
                    && o.name == "product 1 외 1건"
                    && o.source_cart_item_ids == vec![CartItemId::new(11), CartItemId::new(12)]
            })
            .returning(|o| Ok(order_from(o, 8)));
        let ordering = Ordering::new(&m.ports(), Policies::default());
        ordering
            .place_cart_order(
                USER,
                vec![
                    CartItemId::new(11),
                    CartItemId::new(12),
                    CartItemId::new(11),
                ],
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn cart_order_refuses_lines_that_are_not_the_callers() {
        let mut m = Mocks::new();
        m.carts
            .expect_find_items()
            .returning(|_, _| Ok(vec![cart_item(11, 1, 1)]));
        m.orders.expect_create().never();
        let ordering = Ordering::new(&m.ports(), Policies::default());
        let err = ordering
            .place_cart_order(USER, vec![CartItemId::new(11), CartItemId::new(99)])
            .await
            .unwrap_err();
        assert!(
            matches!(err, PlaceCartOrderError::CartItemNotFound(id) if id == CartItemId::new(99))
        );
        assert!(matches!(
            ordering.place_cart_order(USER, vec![]).await,
            Err(PlaceCartOrderError::NothingSelected)
        ));
    }

    #[tokio::test]
    async fn checkout_lists_usable_coupons_best_first() {
        let mut m = Mocks::new();
        let order = created_order(&[(1, 20_000, 1), (2, 10_000, 1)]);
        let key = order.key;
        m.orders
            .expect_find_by_key()
            .returning(move |_| Ok(Some(order.clone())));
        m.coupons.expect_list_owned().returning(|_| {
            let mut used = owned_coupon(3, CouponKind::Fixed { amount: won(9_000) }, vec![]);
            used.status = OwnedCouponStatus::Used;
            Ok(vec![
                owned_coupon(1, CouponKind::Fixed { amount: won(1_000) }, vec![]),
                owned_coupon(
                    2,
                    CouponKind::Rate {
                        percent: crate::model::Percent::new(10).unwrap(),
                        max_discount: None,
                    },
                    vec![],
                ),
                used,
                owned_coupon(4, CouponKind::Fixed { amount: won(500) }, vec![99]),
            ])
        });
        m.points.expect_balance().returning(|_| Ok(won(700)));
        let ordering = Ordering::new(&m.ports(), Policies::default());
        let checkout = ordering.checkout(USER, key).await.unwrap();
        let shown: Vec<(i64, i64)> = checkout
            .usable_coupons
            .iter()
            .map(|c| (c.owned.id.value(), c.discount.won()))
            .collect();
        assert_eq!(shown, vec![(2, 3_000), (1, 1_000)]);
        assert_eq!(checkout.point_balance, won(700));
        assert_eq!(checkout.shipping_fee, won(3_000));
    }

    #[tokio::test]
    async fn another_users_order_reads_as_not_found() {
        let mut m = Mocks::new();
        let mut order = created_order(&[(1, 1_000, 1)]);
        order.user_id = OTHER_USER;
        let key = order.key;
        m.orders
            .expect_find_by_key()
            .returning(move |_| Ok(Some(order.clone())));
        m.payments.expect_latest_for_order().never();
        let ordering = Ordering::new(&m.ports(), Policies::default());
        assert!(matches!(
            ordering.detail(USER, key).await,
            Err(OrderQueryError::NotFound)
        ));
        assert!(matches!(
            ordering.checkout(USER, key).await,
            Err(CheckoutError::NotFound)
        ));
    }

    #[tokio::test]
    async fn checkout_refuses_paid_and_expired_orders() {
        let mut m = Mocks::new();
        let mut paid = created_order(&[(1, 1_000, 1)]);
        paid.status = OrderStatus::Paid;
        let mut stale = created_order(&[(1, 1_000, 1)]);
        stale.key = OrderKey::generate(now() - time::Duration::hours(1));
        stale.expires_at = now() - time::Duration::seconds(1);
        let (paid_key, stale_key) = (paid.key, stale.key);
        m.orders
            .expect_find_by_key()
            .with(eq(paid_key))
            .returning(move |_| Ok(Some(paid.clone())));
        m.orders
            .expect_find_by_key()
            .with(eq(stale_key))
            .returning(move |_| Ok(Some(stale.clone())));
        let ordering = Ordering::new(&m.ports(), Policies::default());
        assert!(matches!(
            ordering.checkout(USER, paid_key).await,
            Err(CheckoutError::NotPayable(OrderStatus::Paid))
        ));
        assert!(matches!(
            ordering.checkout(USER, stale_key).await,
            Err(CheckoutError::Expired)
        ));
    }
}
