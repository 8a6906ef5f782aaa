use actix_web::test::{TestRequest, call_service};
use domain::model::{CartItem, CartItemId, CartLine, ProductId, ProductStatus, Quantity};
use domain::ports::AddToCartError;
use serde_json::json;

use crate::app;
use crate::support::*;

fn item(id: i64, product: i64, quantity: i64) -> CartItem {
    CartItem {
        id: CartItemId::new(id),
        user_id: BUYER,
        product_id: ProductId::new(product),
        quantity: Quantity::new(quantity).unwrap(),
    }
}

#[actix_web::test]
async fn shows_the_cart_priced_now() {
    let mut m = Mocks::new();
    m.carts.expect_lines().returning(|user| {
        assert_eq!(user, BUYER);
        Ok(vec![CartLine {
            item: item(11, 1, 2),
            product_name: "운동화".into(),
            unit_price: won(59_000),
            product_status: ProductStatus::Active,
        }])
    });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/cart")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["total"], 118_000);
    assert_eq!(
        body["items"][0],
        json!({"id": 11, "productId": 1, "productName": "운동화", "unitPrice": 59_000,
               "quantity": 2, "lineTotal": 118_000, "productStatus": "ACTIVE"})
    );
}

#[actix_web::test]
async fn adds_an_item() {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .returning(|_| Ok(Some(product(1, 59_000, true))));
    m.carts
        .expect_add()
        .withf(|user, product, qty| {
            *user == BUYER && *product == ProductId::new(1) && qty.get() == 2
        })
        .times(1)
        .returning(|_, _, _| Ok(item(11, 1, 2)));
    let app = app!(m);
    let req = TestRequest::post()
        .uri("/v1/cart/items")
        .insert_header(bearer(BUYER))
        .set_json(json!({"productId": 1, "quantity": 2}))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        json(res).await,
        json!({"id": 11, "productId": 1, "quantity": 2})
    );
}

#[actix_web::test]
async fn adding_answers_each_failure() {
    let mut m = Mocks::new();
    m.products.expect_find().returning(|id| {
        Ok(match id.value() {
            1 => Some(product(1, 1_000, true)),
            2 => Some(product(2, 1_000, false)),
            _ => None,
        })
    });
    m.carts
        .expect_add()
        .returning(|_, _, _| Err(AddToCartError::QuantityLimit));
    let app = app!(m);
    let add = |product: i64, quantity: i64| {
        TestRequest::post()
            .uri("/v1/cart/items")
            .insert_header(bearer(BUYER))
            .set_json(json!({"productId": product, "quantity": quantity}))
            .to_request()
    };
    problem(
        call_service(&app, add(1, 500)).await,
        409,
        "CART_QUANTITY_LIMIT",
    )
    .await;
    problem(
        call_service(&app, add(2, 1)).await,
        409,
        "PRODUCT_UNAVAILABLE",
    )
    .await;
    problem(
        call_service(&app, add(3, 1)).await,
        404,
        "PRODUCT_NOT_FOUND",
    )
    .await;
    let body = problem(call_service(&app, add(1, 0)).await, 400, "VALIDATION_ERROR").await;
    assert!(body["detail"].as_str().unwrap().starts_with("quantity:"));
    problem(
        call_service(&app, add(1, 1000)).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(call_service(&app, add(0, 1)).await, 400, "VALIDATION_ERROR").await;
}

#[actix_web::test]
async fn changes_and_removes_lines_of_the_callers_cart_only() {
    let mut m = Mocks::new();
    m.carts.expect_set_quantity().returning(|user, id, qty| {
        Ok((user == BUYER && id == CartItemId::new(11)).then(|| item(11, 1, i64::from(qty.get()))))
    });
    m.carts
        .expect_remove()
        .returning(|user, id| Ok(user == BUYER && id == CartItemId::new(11)));
    let app = app!(m);

    let req = TestRequest::patch()
        .uri("/v1/cart/items/11")
        .insert_header(bearer(BUYER))
        .set_json(json!({"quantity": 5}))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["quantity"], 5);

    let req = TestRequest::patch()
        .uri("/v1/cart/items/11")
        .insert_header(bearer(OTHER))
        .set_json(json!({"quantity": 5}))
        .to_request();
    problem(call_service(&app, req).await, 404, "CART_ITEM_NOT_FOUND").await;

    let req = TestRequest::delete()
        .uri("/v1/cart/items/11")
        .insert_header(bearer(OTHER))
        .to_request();
    problem(call_service(&app, req).await, 404, "CART_ITEM_NOT_FOUND").await;

    let req = TestRequest::delete()
        .uri("/v1/cart/items/11")
        .insert_header(bearer(BUYER))
        .to_request();
    assert_eq!(call_service(&app, req).await.status(), 204);
}
