use domain::model::*;
use domain::ports::UpdateProductError;

use crate::common::*;

#[tokio::test]
async fn create_find_and_page_through_products() {
    let env = env().await;
    let a = product(&env, 1_000, 5).await;
    let b = product(&env, 2_000, 0).await;
    let c = product(&env, 3_000, 1).await;
    assert_eq!(
        env.repos.products.find(a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(a.status, ProductStatus::Active);
    assert_eq!(
        a.thumbnail_url.as_deref(),
        Some("https://img.example/sock.png")
    );
    assert_eq!(
        env.repos.products.find(ProductId::new(999)).await.unwrap(),
        None
    );

    let mut many = env
        .repos
        .products
        .find_many(vec![c.id, a.id, ProductId::new(999)])
        .await
        .unwrap();
    many.sort_by_key(|p| p.id);
    assert_eq!(many, vec![a.clone(), c.clone()]);

    let two = PageLimit::new(2).unwrap();
    let first = env.repos.products.list(None, two, false).await.unwrap();
    assert_eq!(first.items, vec![a.clone(), b.clone()]);
    assert_eq!(first.next, Some(b.id));
    let second = env
        .repos
        .products
        .list(first.next, two, false)
        .await
        .unwrap();
    assert_eq!(second.items, vec![c.clone()]);
    assert_eq!(second.next, None);

    let patch = ProductPatch {
        status: Some(ProductStatus::Inactive),
        ..ProductPatch::default()
    };
    env.repos.products.update(b.id, patch).await.unwrap();
    let active = env.repos.products.list(None, two, true).await.unwrap();
    assert_eq!(active.items, vec![a, c]);
    assert_eq!(active.next, None);
}

#[tokio::test]
async fn update_applies_only_the_given_fields() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let patch = ProductPatch {
        stock: Some(42),
        selling_price: Some(won(900)),
        ..ProductPatch::default()
    };
    let updated = env.repos.products.update(p.id, patch).await.unwrap();
    assert_eq!(updated.stock, 42);
    assert_eq!(updated.selling_price, won(900));
    assert_eq!(updated.price, p.price);
    assert_eq!(updated.name, p.name);
    // An empty patch is a no-op that still answers the product.
    let same = env
        .repos
        .products
        .update(p.id, ProductPatch::default())
        .await
        .unwrap();
    assert_eq!(same, updated);
}

#[tokio::test]
async fn update_conflicts() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let missing = env
        .repos
        .products
        .update(ProductId::new(999), ProductPatch::default())
        .await;
    assert!(matches!(missing, Err(UpdateProductError::NotFound(id)) if id == ProductId::new(999)));
    // A price below the stored selling price breaks the CHECK: Invalid, and nothing changes.
    let lower = ProductPatch {
        price: Some(won(10)),
        stock: Some(1),
        ..ProductPatch::default()
    };
    let invalid = env.repos.products.update(p.id, lower).await;
    assert!(
        matches!(invalid, Err(UpdateProductError::Invalid)),
        "{invalid:?}"
    );
    assert_eq!(env.repos.products.find(p.id).await.unwrap(), Some(p));
}
