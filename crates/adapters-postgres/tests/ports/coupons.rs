use domain::model::*;
use domain::ports::DownloadCouponError;
use time::Duration;

use crate::common::*;

#[tokio::test]
async fn create_and_find_with_targets() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_000, 5).await;
    let rate = CouponKind::Rate {
        percent: Percent::new(10).unwrap(),
        max_discount: Some(won(3_000)),
    };
    let targeted = coupon(&env, rate, Some(5), vec![q.id, p.id]).await;
    assert_eq!(targeted.kind, rate);
    assert_eq!(targeted.product_ids, vec![p.id, q.id]);
    assert_eq!(targeted.issue_limit, Some(5));
    assert_eq!(targeted.issued_count, 0);
    assert_eq!(targeted.valid_until, now() + Duration::days(30));
    let everything = coupon(&env, fixed(1_000), None, vec![]).await;
    assert!(everything.product_ids.is_empty());

    assert_eq!(
        env.repos.coupons.find(targeted.id).await.unwrap(),
        Some(targeted.clone())
    );
    assert_eq!(
        env.repos.coupons.find(everything.id).await.unwrap(),
        Some(everything)
    );
    assert_eq!(
        env.repos.coupons.find(CouponId::new(999)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn only_valid_unexhausted_coupons_are_downloadable() {
    let env = env().await;
    let open = coupon(&env, fixed(1_000), None, vec![]).await;
    let last_one = coupon(&env, fixed(1_000), Some(1), vec![]).await;
    let listed: Vec<_> = env
        .repos
        .coupons
        .list_downloadable(UserId::new(2), now())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![last_one.id, open.id]);

    env.repos
        .coupons
        .download(UserId::new(1), last_one.id, now())
        .await
        .unwrap();
    let listed: Vec<_> = env
        .repos
        .coupons
        .list_downloadable(UserId::new(2), now())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![open.id]);
    let after_expiry = now() + Duration::days(31);
    assert!(
        env.repos
            .coupons
            .list_downloadable(UserId::new(2), after_expiry)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn download_once_per_user_within_the_limit() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let c = coupon(&env, fixed(1_000), Some(2), vec![p.id]).await;
    let (alice, bob, carol) = (UserId::new(1), UserId::new(2), UserId::new(3));

    let owned = env
        .repos
        .coupons
        .download(alice, c.id, now())
        .await
        .unwrap();
    assert_eq!(owned.user_id, alice);
    assert_eq!(owned.status, OwnedCouponStatus::Issued);
    assert_eq!(owned.used_order_id, None);
    assert_eq!(owned.coupon.id, c.id);
    assert_eq!(owned.coupon.issued_count, 1);
    assert_eq!(owned.coupon.product_ids, vec![p.id]);

    let again = env.repos.coupons.download(alice, c.id, now()).await;
    assert!(
        matches!(again, Err(DownloadCouponError::AlreadyDownloaded)),
        "{again:?}"
    );
    // The refused download gave its increment back.
    assert_eq!(
        env.repos
            .coupons
            .find(c.id)
            .await
            .unwrap()
            .unwrap()
            .issued_count,
        1
    );

    env.repos.coupons.download(bob, c.id, now()).await.unwrap();
    let none_left = env.repos.coupons.download(carol, c.id, now()).await;
    assert!(
        matches!(none_left, Err(DownloadCouponError::Exhausted)),
        "{none_left:?}"
    );
    // Already owned beats exhausted.
    let owned_again = env.repos.coupons.download(bob, c.id, now()).await;
    assert!(
        matches!(owned_again, Err(DownloadCouponError::AlreadyDownloaded)),
        "{owned_again:?}"
    );
    assert_eq!(
        env.repos
            .coupons
            .find(c.id)
            .await
            .unwrap()
            .unwrap()
            .issued_count,
        2
    );
}

#[tokio::test]
async fn unknown_and_expired_coupons() {
    let env = env().await;
    let c = coupon(&env, fixed(1_000), None, vec![]).await;
    let user = UserId::new(1);
    let missing = env
        .repos
        .coupons
        .download(user, CouponId::new(999), now())
        .await;
    assert!(
        matches!(missing, Err(DownloadCouponError::NotFound(id)) if id == CouponId::new(999)),
        "{missing:?}"
    );
    // Valid up to and including `valid_until`.
    env.repos
        .coupons
        .download(user, c.id, c.valid_until)
        .await
        .unwrap();
    let late = env
        .repos
        .coupons
        .download(UserId::new(2), c.id, c.valid_until + Duration::seconds(1))
        .await;
    assert!(
        matches!(late, Err(DownloadCouponError::Expired)),
        "{late:?}"
    );
}

#[tokio::test]
async fn owned_coupons_belong_to_their_user() {
    let env = env().await;
    let first = coupon(&env, fixed(1_000), None, vec![]).await;
    let second = coupon(&env, fixed(2_000), None, vec![]).await;
    let (alice, bob) = (UserId::new(1), UserId::new(2));
    let a1 = env
        .repos
        .coupons
        .download(alice, first.id, now())
        .await
        .unwrap();
    let a2 = env
        .repos
        .coupons
        .download(alice, second.id, now())
        .await
        .unwrap();
    env.repos
        .coupons
        .download(bob, first.id, now())
        .await
        .unwrap();

    let owned = env.repos.coupons.list_owned(alice).await.unwrap();
    assert_eq!(
        owned.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![a2.id, a1.id]
    );
    assert_eq!(owned[0].coupon.name, second.name);
    assert_eq!(
        env.repos
            .coupons
            .find_owned(alice, a1.id)
            .await
            .unwrap()
            .map(|o| o.id),
        Some(a1.id)
    );
    assert_eq!(
        env.repos.coupons.find_owned(bob, a1.id).await.unwrap(),
        None
    );
}
