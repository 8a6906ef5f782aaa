use domain::model::*;

use crate::common::*;

#[tokio::test]
async fn grants_build_a_ledger_paged_newest_first() {
    let env = env().await;
    let user = UserId::new(1);
    assert_eq!(env.repos.points.balance(user).await.unwrap(), Money::ZERO);
    assert!(ledger(&env, user).await.is_empty());

    for (n, amount) in [100, 20, 3].into_iter().enumerate() {
        let balance = env
            .repos
            .points
            .grant(user, won(amount), format!("grant {n}"), now())
            .await
            .unwrap();
        assert!(balance.won() >= amount);
    }
    assert_eq!(env.repos.points.balance(user).await.unwrap(), won(123));
    assert_eq!(
        env.repos.points.balance(UserId::new(2)).await.unwrap(),
        Money::ZERO
    );

    let two = PageLimit::new(2).unwrap();
    let first = env.repos.points.ledger(user, None, two).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0].amount, won(3));
    assert_eq!(first.items[0].balance_after, won(123));
    assert_eq!(first.items[0].kind, PointEntryKind::Grant);
    assert_eq!(first.items[0].reason.as_deref(), Some("grant 2"));
    assert_eq!(first.items[0].order_key, None);
    assert_eq!(first.items[1].balance_after, won(120));
    let second = env
        .repos
        .points
        .ledger(user, first.next, two)
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].balance_after, won(100));
    assert_eq!(second.next, None);
    assert_eq!(ledger_sum(&ledger(&env, user).await), 123);
}
