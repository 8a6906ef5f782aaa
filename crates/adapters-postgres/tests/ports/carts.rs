use domain::model::*;
use domain::ports::AddToCartError;

use crate::common::*;

#[tokio::test]
async fn adding_twice_grows_one_line() {
    let env = env().await;
    let user = UserId::new(1);
    let p = product(&env, 1_000, 5).await;
    let first = env.repos.carts.add(user, p.id, qty(2)).await.unwrap();
    let second = env.repos.carts.add(user, p.id, qty(3)).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.quantity, qty(5));
    assert_eq!(second.product_id, p.id);
    assert_eq!(second.user_id, user);

    let lines = env.repos.carts.lines(user).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].item, second);
    assert_eq!(lines[0].product_name, p.name);
    assert_eq!(lines[0].unit_price, p.selling_price);
    assert_eq!(lines[0].product_status, ProductStatus::Active);
    assert!(
        env.repos
            .carts
            .lines(UserId::new(2))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn add_conflicts() {
    let env = env().await;
    let user = UserId::new(1);
    let p = product(&env, 1_000, 5).await;
    env.repos.carts.add(user, p.id, qty(500)).await.unwrap();
    let over = env.repos.carts.add(user, p.id, qty(500)).await;
    assert!(
        matches!(over, Err(AddToCartError::QuantityLimit)),
        "{over:?}"
    );
    let lines = env.repos.carts.lines(user).await.unwrap();
    assert_eq!(lines[0].item.quantity, qty(500));
    env.repos.carts.add(user, p.id, qty(499)).await.unwrap();

    let unknown = env.repos.carts.add(user, ProductId::new(999), qty(1)).await;
    assert!(
        matches!(unknown, Err(AddToCartError::ProductNotFound(id)) if id == ProductId::new(999)),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn items_belong_to_their_user() {
    let env = env().await;
    let (alice, bob) = (UserId::new(1), UserId::new(2));
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_000, 5).await;
    let a1 = env.repos.carts.add(alice, p.id, qty(1)).await.unwrap();
    let a2 = env.repos.carts.add(alice, q.id, qty(1)).await.unwrap();
    let b1 = env.repos.carts.add(bob, p.id, qty(1)).await.unwrap();

    let found = env
        .repos
        .carts
        .find_items(alice, vec![a2.id, b1.id, a1.id])
        .await
        .unwrap();
    assert_eq!(found, vec![a1.clone(), a2.clone()]);

    assert_eq!(
        env.repos
            .carts
            .set_quantity(alice, b1.id, qty(9))
            .await
            .unwrap(),
        None
    );
    let set = env
        .repos
        .carts
        .set_quantity(alice, a1.id, qty(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set.quantity, qty(9));

    assert!(!env.repos.carts.remove(alice, b1.id).await.unwrap());
    assert!(env.repos.carts.remove(alice, a1.id).await.unwrap());
    assert!(!env.repos.carts.remove(alice, a1.id).await.unwrap());
    let left: Vec<_> = env
        .repos
        .carts
        .lines(alice)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.item)
        .collect();
    assert_eq!(left, vec![a2]);
}
