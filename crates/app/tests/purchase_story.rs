//! The whole purchase story over HTTP against the real server and a real PostgreSQL.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_purchase_story() {
    let app = TestApp::spawn().await;
    let buyer = app.buyer(7);

    // Admin: two products, a coupon, and points for the buyer.
    let shirt = app.product("셔츠", 20_000, 10).await;
    let pants = app.product("바지", 40_000, 5).await;
    let owned_coupon = app.owned_coupon(7, 5_000).await;
    app.grant_points(7, 3_000).await;

    // Buyer: adds both to the cart.
    let (status, line) = app
        .post(
            "/v1/cart/items",
            &buyer,
            json!({"productId": shirt, "quantity": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    let shirt_line = line["id"].as_i64().unwrap();
    let (status, line) = app
        .post(
            "/v1/cart/items",
            &buyer,
            json!({"productId": pants, "quantity": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    let pants_line = line["id"].as_i64().unwrap();
    let (status, cart) = app.get("/v1/cart", &buyer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cart["total"], 60_000);

    // Orders one product directly, then the two cart items.
    let single = app.order(7, shirt, 2).await;
    let (status, body) = app
        .post(
            "/v1/cart-orders",
            &buyer,
            json!({"cartItemIds": [shirt_line, pants_line]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let order_key = body["orderKey"].as_str().unwrap().to_owned();

    // Checkout shows the coupon with its discount, the balance and the shipping fee.
    let (status, checkout) = app
        .get(&format!("/v1/orders/{order_key}/checkout"), &buyer)
        .await;
    assert_eq!(status, StatusCode::OK, "{checkout}");
    assert_eq!(checkout["itemsTotal"], 60_000);
    assert_eq!(checkout["shippingFee"], 0);
    assert_eq!(checkout["pointBalance"], 3_000);
    assert_eq!(checkout["usableCoupons"][0]["ownedCouponId"], owned_coupon);
    assert_eq!(checkout["usableCoupons"][0]["discount"], 5_000);
    assert_eq!(checkout["name"], "셔츠 외 1건");

    // Requests payment with the coupon, 2,000 points and an address: 60,000 − 5,000 − 2,000.
    let amount = app
        .request_payment(7, &order_key, Some(owned_coupon), 2_000)
        .await;
    assert_eq!(amount, 53_000);

    // Confirms through the simulated gateway.
    let (status, paid) = app.confirm(7, &order_key, "tgen_story_1", amount).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["paidAmount"], 53_000);
    assert_eq!(paid["couponDiscount"], 5_000);
    assert_eq!(paid["usedPoint"], 2_000);
    assert_eq!(paid["payment"]["status"], "APPROVED");
    assert_eq!(paid["shippingAddress"]["recipient"], "홍길동");

    // Stock, points and coupon moved; the cart lines are gone.
    assert_eq!(app.stock(shirt).await, 9);
    assert_eq!(app.stock(pants).await, 4);
    assert_eq!(app.points(7).await, 3_000 - 2_000 + 530);
    assert_eq!(app.owned_coupon_status(7, owned_coupon).await, "USED");
    let (_, cart) = app.get("/v1/cart", &buyer).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 0);

    // The paid order is in the list (the unpaid single order is not), and in detail.
    let (status, list) = app.get("/v1/orders", &buyer).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let keys: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec![order_key.as_str()]);
    let (_, all) = app.get("/v1/orders?status=ALL", &buyer).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let detail = app.order_detail(7, &order_key).await;
    assert_eq!(detail["items"].as_array().unwrap().len(), 2);
    let shares: i64 = detail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["discount"].as_i64().unwrap())
        .sum();
    assert_eq!(shares, 5_000);

    // Another buyer cannot see it.
    let (status, problem) = app
        .get(&format!("/v1/orders/{order_key}"), &app.buyer(8))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], "ORDER_NOT_FOUND");

    // Cancel refunds everything: stock, coupon, points (the 530 earned are taken back).
    let (status, canceled) = app
        .post(&format!("/v1/orders/{order_key}/cancel"), &buyer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "CANCELED");
    assert_eq!(app.stock(shirt).await, 10);
    assert_eq!(app.stock(pants).await, 5);
    assert_eq!(app.points(7).await, 3_000);
    assert_eq!(app.owned_coupon_status(7, owned_coupon).await, "ISSUED");
    assert_eq!(app.gateway.refunds_for(&order_key.parse().unwrap()), 1);

    // The unpaid order can simply be canceled.
    let (status, canceled) = app
        .post(&format!("/v1/orders/{single}/cancel"), &buyer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "CANCELED");

    app.stop().await;
}
