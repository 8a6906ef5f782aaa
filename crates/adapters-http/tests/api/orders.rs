use actix_web::test::{TestRequest, call_service};
use domain::model::*;
use serde_json::json;

use crate::app;
use crate::support::*;

/// What the order repository stores, handed back as an order.
fn stored(new: &NewOrder) -> Order {
    Order {
        items: new
            .items
            .iter()
            .map(|i| {
                order_item(
                    i.product_id.value(),
                    i.unit_price.won(),
                    i64::from(i.quantity.get()),
                )
            })
            .collect(),
        key: new.key,
        user_id: new.user_id,
        ..order(new.user_id, OrderStatus::Created)
    }
}

#[actix_web::test]
async fn places_a_single_product_order() {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .returning(|_| Ok(Some(product(1, 59_000, true))));
    m.orders
        .expect_create()
        .withf(|o| o.user_id == BUYER && o.items.len() == 1 && o.items[0].quantity.get() == 2)
        .times(1)
        .returning(|o| Ok(stored(&o)));
    let app = app!(m);
    let req = TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .set_json(json!({"productId": 1, "quantity": 2}))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 201);
    let body = json(res).await;
    let key = body["orderKey"].as_str().unwrap();
    assert!(OrderKey::parse(key).is_ok());
    assert_eq!(body.as_object().unwrap().len(), 1, "only the key: {body}");

    let req = TestRequest::get().uri("/metrics").to_request();
    let text = String::from_utf8(
        actix_web::test::read_body(call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("orders_placed_total 1"), "{text}");
}

#[actix_web::test]
async fn ordering_a_missing_or_inactive_product_fails() {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .returning(|id| Ok((id.value() == 2).then(|| product(2, 1_000, false))));
    m.orders.expect_create().never();
    let app = app!(m);
    let place = |product: i64| {
        TestRequest::post()
            .uri("/v1/orders")
            .insert_header(bearer(BUYER))
            .set_json(json!({"productId": product, "quantity": 1}))
            .to_request()
    };
    problem(call_service(&app, place(1)).await, 404, "PRODUCT_NOT_FOUND").await;
    problem(
        call_service(&app, place(2)).await,
        409,
        "PRODUCT_UNAVAILABLE",
    )
    .await;
}

#[actix_web::test]
async fn places_a_cart_order_from_the_callers_lines() {
    let mut m = Mocks::new();
    m.carts
        .expect_find_items()
        .withf(|user, ids| *user == BUYER && ids == &[CartItemId::new(11), CartItemId::new(12)])
        .returning(|user, ids| {
            Ok(ids
                .into_iter()
                .map(|id| CartItem {
                    id,
                    user_id: user,
                    product_id: ProductId::new(id.value() - 10),
                    quantity: Quantity::new(1).unwrap(),
                })
                .collect())
        });
    m.products
        .expect_find_many()
        .returning(|_| Ok(vec![product(1, 59_000, true), product(2, 10_000, true)]));
    m.orders
        .expect_create()
        .withf(|o| o.source_cart_item_ids.len() == 2 && o.name == "상품 1 외 1건")
        .times(1)
        .returning(|o| Ok(stored(&o)));
    let app = app!(m);
    let req = TestRequest::post()
        .uri("/v1/cart-orders")
        .insert_header(bearer(BUYER))
        .set_json(json!({"cartItemIds": [11, 12]}))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 201);
    assert!(json(res).await["orderKey"].is_string());
}

#[actix_web::test]
async fn cart_orders_refuse_empty_selections_and_foreign_lines() {
    let mut m = Mocks::new();
    m.carts.expect_find_items().returning(|_, _| Ok(vec![]));
    m.orders.expect_create().never();
    let app = app!(m);
    let place = |ids: serde_json::Value| {
        TestRequest::post()
            .uri("/v1/cart-orders")
            .insert_header(bearer(BUYER))
            .set_json(json!({"cartItemIds": ids}))
            .to_request()
    };
    problem(
        call_service(&app, place(json!([]))).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, place(json!([0]))).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, place(json!([99]))).await,
        404,
        "CART_ITEM_NOT_FOUND",
    )
    .await;
}

#[actix_web::test]
async fn checkout_shows_usable_coupons_and_the_balance() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.coupons.expect_list_owned().returning(|_| {
        Ok(vec![owned(
            21,
            coupon(5, CouponKind::Fixed { amount: won(5_000) }),
        )])
    });
    m.points.expect_balance().returning(|_| Ok(won(3_000)));
    let app = app!(m);
    let req = TestRequest::get()
        .uri(&format!("/v1/orders/{ORDER_KEY}/checkout"))
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["orderKey"], ORDER_KEY);
    assert_eq!(body["status"], "CREATED");
    assert_eq!(body["itemsTotal"], 79_000);
    assert_eq!(body["pointBalance"], 3_000);
    assert_eq!(body["expiresAt"], "2026-11-28T12:30:00Z");
    assert_eq!(
        body["usableCoupons"][0],
        json!({"ownedCouponId": 21, "couponId": 5, "name": "쿠폰 5", "kind": "FIXED", "discount": 5_000})
    );
    assert_eq!(body["items"][1]["lineTotal"], 20_000);
}

#[actix_web::test]
async fn checkout_of_a_paid_or_expired_order_is_a_conflict() {
    let mut m = Mocks::new();
    let mut calls = 0;
    m.orders.expect_find_by_key().returning(move |_| {
        calls += 1;
        let mut o = order(BUYER, OrderStatus::Created);
        if calls == 1 {
            o.status = OrderStatus::Paid;
        } else {
            o.expires_at = now();
        }
        Ok(Some(o))
    });
    let app = app!(m);
    let req = || {
        TestRequest::get()
            .uri(&format!("/v1/orders/{ORDER_KEY}/checkout"))
            .insert_header(bearer(BUYER))
            .to_request()
    };
    problem(call_service(&app, req()).await, 409, "ORDER_NOT_PAYABLE").await;
    problem(call_service(&app, req()).await, 409, "ORDER_EXPIRED").await;
}

fn summary(status: OrderStatus) -> OrderSummary {
    OrderSummary {
        key: key(),
        name: "상품 1 외 1건".into(),
        status,
        paid_amount: won(79_000),
        created_at: now(),
        paid_at: Some(now()),
    }
}

#[actix_web::test]
async fn lists_paid_orders_by_default() {
    let mut m = Mocks::new();
    m.orders
        .expect_list_for_user()
        .withf(|user, status, after, limit| {
            *user == BUYER
                && *status == Some(OrderStatus::Paid)
                && after.is_none()
                && limit.get() == 20
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![summary(OrderStatus::Paid)],
                next: Some(key()),
            })
        });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["nextCursor"], ORDER_KEY);
    assert_eq!(
        body["items"][0],
        json!({"orderKey": ORDER_KEY, "name": "상품 1 외 1건", "status": "PAID", "paidAmount": 79_000,
               "createdAt": "2026-11-28T12:00:00Z", "paidAt": "2026-11-28T12:00:00Z"})
    );
}

#[actix_web::test]
async fn lists_every_status_with_all_and_pages_by_order_key() {
    let mut m = Mocks::new();
    m.orders
        .expect_list_for_user()
        .withf(|_, status, after, limit| {
            status.is_none() && *after == Some(key()) && limit.get() == 5
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                next: None,
            })
        });
    m.orders
        .expect_list_for_user()
        .withf(|_, status, _, _| *status == Some(OrderStatus::Canceled))
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                next: None,
            })
        });
    let app = app!(m);
    let get = |uri: String| {
        TestRequest::get()
            .uri(&uri)
            .insert_header(bearer(BUYER))
            .to_request()
    };
    let body = json(
        call_service(
            &app,
            get(format!("/v1/orders?status=ALL&cursor={ORDER_KEY}&limit=5")),
        )
        .await,
    )
    .await;
    assert!(body["nextCursor"].is_null());
    call_service(&app, get("/v1/orders?status=CANCELED".into())).await;
    for uri in [
        "/v1/orders?status=paid",
        "/v1/orders?cursor=12",
        "/v1/orders?limit=1000",
    ] {
        problem(
            call_service(&app, get(uri.into())).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
    }
}

#[actix_web::test]
async fn detail_shows_the_order_and_never_its_numeric_id() {
    let mut m = Mocks::new();
    m.orders.expect_find_by_key().returning(|_| {
        let mut o = order(BUYER, OrderStatus::Paid);
        o.shipping_address = Some(
            ShippingAddress::new(
                "홍길동",
                "010-1234-5678",
                "06236",
                "서울 강남구 테헤란로 1",
                None,
            )
            .unwrap(),
        );
        Ok(Some(o))
    });
    m.payments
        .expect_latest_for_order()
        .returning(|_| Ok(Some(payment(PaymentStatus::Approved, 79_000))));
    let app = app!(m);
    let req = TestRequest::get()
        .uri(&format!("/v1/orders/{ORDER_KEY}"))
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["orderKey"], ORDER_KEY);
    assert_eq!(body["status"], "PAID");
    assert_eq!(body["paidAmount"], 79_000);
    assert_eq!(
        body["payment"],
        json!({"status": "APPROVED", "method": "카드", "approvedAt": "2026-11-28T12:00:00Z"})
    );
    assert_eq!(body["shippingAddress"]["zipCode"], "06236");
    assert!(body["canceledAt"].is_null());
    let text = body.to_string();
    assert!(
        !text.contains("\"id\"") && !text.contains("orderId"),
        "{text}"
    );
}

#[actix_web::test]
async fn another_users_order_is_404_never_403() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(OTHER, OrderStatus::Paid))));
    m.payments.expect_latest_for_order().never();
    let app = app!(m);
    for uri in [
        format!("/v1/orders/{ORDER_KEY}"),
        format!("/v1/orders/{ORDER_KEY}/checkout"),
    ] {
        let req = TestRequest::get()
            .uri(&uri)
            .insert_header(bearer(BUYER))
            .to_request();
        problem(call_service(&app, req).await, 404, "ORDER_NOT_FOUND").await;
    }
    let req = TestRequest::post()
        .uri(&format!("/v1/orders/{ORDER_KEY}/cancel"))
        .insert_header(bearer(BUYER))
        .to_request();
    problem(call_service(&app, req).await, 404, "ORDER_NOT_FOUND").await;
}

#[actix_web::test]
async fn a_malformed_order_key_is_400() {
    let app = app!(Mocks::new());
    let req = TestRequest::get()
        .uri("/v1/orders/not-a-key")
        .insert_header(bearer(BUYER))
        .to_request();
    problem(call_service(&app, req).await, 400, "VALIDATION_ERROR").await;
}

#[actix_web::test]
async fn cancels_an_unpaid_order() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.orders
        .expect_cancel_unpaid()
        .times(1)
        .returning(|_, _| Ok(()));
    m.orders
        .expect_find_by_id()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Canceled))));
    m.payments.expect_latest_for_order().returning(|_| Ok(None));
    let app = app!(m);
    let req = TestRequest::post()
        .uri(&format!("/v1/orders/{ORDER_KEY}/cancel"))
        .insert_header(bearer(BUYER))
        .set_json(json!({"reason": "단순 변심"}))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["status"], "CANCELED");
    assert_eq!(body["canceledAt"], "2026-11-28T12:00:00Z");
    assert!(body["payment"].is_null());
}

#[actix_web::test]
async fn a_refund_still_pending_is_202() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Paid))));
    m.payments
        .expect_latest_for_order()
        .returning(|_| Ok(Some(payment(PaymentStatus::Canceling, 79_000))));
    let app = app!(m);
    let req = TestRequest::post()
        .uri(&format!("/v1/orders/{ORDER_KEY}/cancel"))
        .insert_header(bearer(BUYER))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        json(res).await,
        json!({"status": "CANCEL_PENDING", "orderKey": ORDER_KEY})
    );
}

#[actix_web::test]
async fn cancel_answers_its_failures() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Expired))));
    let app = app!(m);
    let cancel = |body: &'static str| {
        TestRequest::post()
            .uri(&format!("/v1/orders/{ORDER_KEY}/cancel"))
            .insert_header(bearer(BUYER))
            .insert_header(("content-type", "application/json"))
            .set_payload(body)
            .to_request()
    };
    problem(
        call_service(&app, cancel("")).await,
        409,
        "ORDER_NOT_CANCELABLE",
    )
    .await;
    problem(
        call_service(&app, cancel("{\"reason\":")).await,
        400,
        "MALFORMED_JSON",
    )
    .await;
    problem(
        call_service(&app, cancel("{\"why\":\"x\"}")).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, cancel("{\"reason\":\"  \"}")).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
}
