use domain::model::*;
use domain::ports::CancelUnpaidError;
use time::Duration;

use crate::common::*;

#[tokio::test]
async fn create_and_read_back() {
    let env = env().await;
    let user = UserId::new(7);
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_500, 5).await;
    let created = order(&env, user, &[(&q, 2), (&p, 1)]).await;
    assert_eq!(created.status, OrderStatus::Created);
    assert_eq!(created.user_id, user);
    assert_eq!(created.name, "양말 외 1건");
    assert_eq!(created.amounts.items_total, won(6_000));
    assert_eq!(created.amounts.shipping_fee, won(3_000));
    assert_eq!(created.amounts.paid_amount, Money::ZERO);
    assert_eq!(created.items.len(), 2);
    assert_eq!(created.items[0].product_id, q.id);
    assert_eq!(created.items[0].quantity, qty(2));
    assert_eq!(created.items[0].line_total, won(5_000));
    assert_eq!(created.items[1].product_id, p.id);
    assert_eq!(created.shipping_address, None);
    assert_eq!(created.expires_at, now() + Duration::minutes(30));

    assert_eq!(
        env.repos.orders.find_by_key(created.key).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        env.repos.orders.find_by_id(created.id).await.unwrap(),
        Some(created.clone())
    );
    let unknown = OrderKey::generate(now());
    assert_eq!(env.repos.orders.find_by_key(unknown).await.unwrap(), None);
    assert_eq!(
        env.repos
            .orders
            .find_by_id(OrderId::new(999))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn cart_sources_are_kept() {
    let env = env().await;
    let user = UserId::new(7);
    let p = product(&env, 1_000, 5).await;
    let item = env.repos.carts.add(user, p.id, qty(1)).await.unwrap();
    let mut new = NewOrder {
        key: OrderKey::generate(now()),
        user_id: user,
        name: "양말".into(),
        items: vec![NewOrderItem {
            product_id: p.id,
            product_name: p.name.clone(),
            thumbnail_url: None,
            unit_price: p.selling_price,
            quantity: qty(1),
            line_total: p.selling_price,
        }],
        items_total: p.selling_price,
        shipping_fee: won(3_000),
        source_cart_item_ids: vec![item.id],
        created_at: now(),
        expires_at: now() + Duration::minutes(30),
    };
    let created = env.repos.orders.create(new.clone()).await.unwrap();
    assert_eq!(created.source_cart_item_ids, vec![item.id]);
    // The order key is unique.
    new.source_cart_item_ids = vec![];
    assert!(env.repos.orders.create(new).await.is_err());
}

/// `create` builds the order it returns from its input (no read back): it must still equal what
/// a read returns, down to the timestamps PostgreSQL keeps to the microsecond.
#[tokio::test]
async fn what_create_returns_is_what_is_stored() {
    let env = env().await;
    let user = UserId::new(7);
    let products = [
        product(&env, 1_000, 5).await,
        product(&env, 2_500, 5).await,
        product(&env, 700, 5).await,
    ];
    let cart_item = env
        .repos
        .carts
        .add(user, products[0].id, qty(3))
        .await
        .unwrap();
    let created_at = now() + Duration::nanoseconds(123_456_789);
    let items: Vec<NewOrderItem> = products
        .iter()
        .zip([3, 1, 2])
        .map(|(p, n)| NewOrderItem {
            product_id: p.id,
            product_name: format!("{} #{n}", p.name),
            // One line without a thumbnail.
            thumbnail_url: (n != 1).then(|| format!("https://img.example/{n}.png")),
            unit_price: p.selling_price,
            quantity: qty(n),
            line_total: p
                .selling_price
                .checked_mul(u32::try_from(n).unwrap())
                .unwrap(),
        })
        .collect();
    let new = NewOrder {
        key: OrderKey::generate(created_at),
        user_id: user,
        name: "양말 외 2건".into(),
        items_total: Money::checked_sum(items.iter().map(|i| i.line_total)).unwrap(),
        items,
        shipping_fee: Money::ZERO,
        source_cart_item_ids: vec![cart_item.id],
        created_at,
        expires_at: created_at + Duration::minutes(30),
    };
    let created = env.repos.orders.create(new.clone()).await.unwrap();
    assert_eq!(created.created_at, now() + Duration::microseconds(123_456));
    let found = env.repos.orders.find_by_key(new.key).await.unwrap();
    assert_eq!(found, Some(created.clone()));
    let created_items: Vec<_> = created
        .items
        .iter()
        .map(|i| {
            (
                i.product_id,
                i.product_name.clone(),
                i.thumbnail_url.clone(),
                i.quantity,
            )
        })
        .collect();
    let new_items: Vec<_> = new
        .items
        .iter()
        .map(|i| {
            (
                i.product_id,
                i.product_name.clone(),
                i.thumbnail_url.clone(),
                i.quantity,
            )
        })
        .collect();
    assert_eq!(created_items, new_items, "lines kept in their order");
    assert_eq!(created.items[1].thumbnail_url, None);
}

#[tokio::test]
async fn a_users_orders_newest_first_by_status() {
    let env = env().await;
    let user = UserId::new(7);
    let p = product(&env, 1_000, 50).await;
    let mut keys = Vec::new();
    for minute in 0..5 {
        let o = order_at(&env, user, &[(&p, 1)], now() + Duration::minutes(minute)).await;
        keys.push(o.key);
    }
    order(&env, UserId::new(8), &[(&p, 1)]).await;
    let (paid, _) = paid_order(&env, user, &p, |o| request(o, None, 0), 0).await;

    let two = PageLimit::new(2).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = env
            .repos
            .orders
            .list_for_user(user, Some(OrderStatus::Created), after, two)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|s| s.key));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    keys.reverse();
    assert_eq!(seen, keys);

    let paid_list = env
        .repos
        .orders
        .list_for_user(user, Some(OrderStatus::Paid), None, two)
        .await
        .unwrap();
    assert_eq!(paid_list.items.len(), 1);
    let summary = &paid_list.items[0];
    assert_eq!(summary.key, paid.key);
    assert_eq!(summary.paid_amount, won(4_000));
    assert_eq!(summary.paid_at, Some(now()));

    let all = env
        .repos
        .orders
        .list_for_user(user, None, None, PageLimit::new(100).unwrap())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!(all.next, None);
}

#[tokio::test]
async fn cancel_unpaid_fails_the_ready_payment_and_writes_an_event() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, UserId::new(1), &[(&p, 1)]).await;
    let payment = prepare(&env, &o).await;
    env.repos.orders.cancel_unpaid(o.id, now()).await.unwrap();

    let canceled = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(canceled.status, OrderStatus::Canceled);
    assert_eq!(canceled.canceled_at, Some(now()));
    let payment = env.repos.payments.find(payment.id).await.unwrap().unwrap();
    assert_eq!(payment.status, PaymentStatus::Failed);
    assert_eq!(payment.failure.unwrap().code, "ORDER_CANCELED");
    assert_eq!(outbox_topics(&env).await, vec!["order.canceled"]);

    let again = env.repos.orders.cancel_unpaid(o.id, now()).await;
    assert!(
        matches!(
            again,
            Err(CancelUnpaidError::NotCancelable(OrderStatus::Canceled))
        ),
        "{again:?}"
    );
}

#[tokio::test]
async fn cancel_unpaid_is_refused_while_a_payment_is_confirming() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, UserId::new(1), &[(&p, 1)]).await;
    let payment = prepare(&env, &o).await;
    env.repos
        .payments
        .reserve(reservation(&o, &payment, "pk_1"))
        .await
        .unwrap();
    let refused = env.repos.orders.cancel_unpaid(o.id, now()).await;
    assert!(
        matches!(refused, Err(CancelUnpaidError::PaymentInProgress)),
        "{refused:?}"
    );
    let still = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(still.status, OrderStatus::Created);
    assert!(outbox_topics(&env).await.is_empty());
}

#[tokio::test]
async fn expiry_moves_due_orders_and_skips_payments_in_progress() {
    let env = env().await;
    let user = UserId::new(1);
    let p = product(&env, 1_000, 5).await;
    let due = order(&env, user, &[(&p, 1)]).await;
    let due_payment = prepare(&env, &due).await;
    let confirming = order(&env, user, &[(&p, 1)]).await;
    let payment = prepare(&env, &confirming).await;
    env.repos
        .payments
        .reserve(reservation(&confirming, &payment, "pk_1"))
        .await
        .unwrap();
    let later = order_at(&env, user, &[(&p, 1)], now() + Duration::minutes(20)).await;

    let after_expiry = now() + Duration::minutes(31);
    let expired = env.repos.orders.expire_due(after_expiry, 10).await.unwrap();
    assert_eq!(expired, vec![due.key]);
    let due = env.repos.orders.find_by_id(due.id).await.unwrap().unwrap();
    assert_eq!(due.status, OrderStatus::Expired);
    let due_payment = env
        .repos
        .payments
        .find(due_payment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(due_payment.status, PaymentStatus::Failed);
    assert_eq!(due_payment.failure.unwrap().code, "ORDER_EXPIRED");
    let confirming = env
        .repos
        .orders
        .find_by_id(confirming.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirming.status, OrderStatus::Created);
    let later = env
        .repos
        .orders
        .find_by_id(later.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.status, OrderStatus::Created);
    assert_eq!(outbox_topics(&env).await, vec!["order.expired"]);

    assert!(
        env.repos
            .orders
            .expire_due(after_expiry, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn expiry_works_in_bounded_batches() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    for _ in 0..5 {
        order(&env, UserId::new(1), &[(&p, 1)]).await;
    }
    let later = now() + Duration::hours(1);
    assert_eq!(
        env.repos.orders.expire_due(later, 2).await.unwrap().len(),
        2
    );
    assert_eq!(
        env.repos.orders.expire_due(later, 2).await.unwrap().len(),
        2
    );
    assert_eq!(
        env.repos.orders.expire_due(later, 2).await.unwrap().len(),
        1
    );
    assert!(
        env.repos
            .orders
            .expire_due(later, 2)
            .await
            .unwrap()
            .is_empty()
    );
}
