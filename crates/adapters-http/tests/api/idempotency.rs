use actix_web::test::{TestRequest, call_service, read_body};
use domain::model::*;
use serde_json::json;

use crate::app;
use crate::support::*;

fn place(user: UserId, key: &str, quantity: i64) -> TestRequest {
    TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(user))
        .insert_header(("idempotency-key", key.to_owned()))
        .set_json(json!({"productId": 1, "quantity": quantity}))
}

fn placing(times: usize) -> Mocks {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .times(times)
        .returning(|_| Ok(Some(product(1, 59_000, true))));
    m.orders
        .expect_create()
        .times(times)
        .returning(|o| Ok(order(o.user_id, OrderStatus::Created)));
    m
}

#[actix_web::test]
async fn a_repeated_request_is_replayed_not_run_again() {
    let app = app!(placing(1));
    let first = call_service(&app, place(BUYER, "k-1", 1).to_request()).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = read_body(first).await;

    let second = call_service(&app, place(BUYER, "k-1", 1).to_request()).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        second.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(read_body(second).await, first_body);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_422() {
    let app = app!(placing(1));
    assert_eq!(
        call_service(&app, place(BUYER, "k-1", 1).to_request())
            .await
            .status(),
        201
    );
    problem(
        call_service(&app, place(BUYER, "k-1", 2).to_request()).await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
}

#[actix_web::test]
async fn a_key_in_flight_is_409() {
    let m = placing(0);
    m.idempotency.hold(
        BUYER,
        "k-1",
        &adapters_http::idempotency::fingerprint(
            &actix_web::http::Method::POST,
            "/v1/orders",
            br#"{"productId":1,"quantity":1}"#,
        ),
    );
    let app = app!(m);
    problem(
        call_service(&app, place(BUYER, "k-1", 1).to_request()).await,
        409,
        "IDEMPOTENCY_IN_PROGRESS",
    )
    .await;
}

#[actix_web::test]
async fn keys_are_per_user() {
    let app = app!(placing(2));
    assert_eq!(
        call_service(&app, place(BUYER, "k-1", 1).to_request())
            .await
            .status(),
        201
    );
    let other = call_service(&app, place(OTHER, "k-1", 2).to_request()).await;
    assert_eq!(other.status(), 201);
    assert!(other.headers().get("idempotent-replayed").is_none());
}

#[actix_web::test]
async fn business_errors_are_replayed_too() {
    let mut m = Mocks::new();
    m.products.expect_find().times(1).returning(|_| Ok(None));
    let app = app!(m);
    problem(
        call_service(&app, place(BUYER, "k-1", 1).to_request()).await,
        404,
        "PRODUCT_NOT_FOUND",
    )
    .await;
    let replay = call_service(&app, place(BUYER, "k-1", 1).to_request()).await;
    assert_eq!(replay.headers().get("idempotent-replayed").unwrap(), "true");
    problem(replay, 404, "PRODUCT_NOT_FOUND").await;
}

#[actix_web::test]
async fn server_errors_release_the_key_so_a_retry_runs() {
    let mut m = Mocks::new();
    let mut calls = 0;
    m.products.expect_find().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 {
            Err(unavailable())
        } else {
            Ok(Some(product(1, 59_000, true)))
        }
    });
    m.orders
        .expect_create()
        .times(1)
        .returning(|o| Ok(order(o.user_id, OrderStatus::Created)));
    let store = m.idempotency.clone();
    let app = app!(m);
    problem(
        call_service(&app, place(BUYER, "k-1", 1).to_request()).await,
        503,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert_eq!(*store.releases.lock().unwrap(), 1);
    let retry = call_service(&app, place(BUYER, "k-1", 1).to_request()).await;
    assert_eq!(retry.status(), 201);
    assert!(retry.headers().get("idempotent-replayed").is_none());
}

#[actix_web::test]
async fn a_pending_confirm_is_not_stored() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    // A confirm answered from the stored state re-reads the order first.
    m.orders
        .expect_find_by_id()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.payments
        .expect_latest_for_order()
        .times(2)
        .returning(|_| Ok(Some(payment(PaymentStatus::Confirming, 79_000))));
    let store = m.idempotency.clone();
    let app = app!(m);
    let confirm = || {
        TestRequest::post()
            .uri("/v1/payments/confirm")
            .insert_header(bearer(BUYER))
            .insert_header(("idempotency-key", "c-1"))
            .set_json(json!({"orderKey": ORDER_KEY, "paymentKey": "pk_1", "amount": 79_000}))
            .to_request()
    };
    assert_eq!(call_service(&app, confirm()).await.status(), 202);
    let again = call_service(&app, confirm()).await;
    assert_eq!(again.status(), 202);
    assert!(again.headers().get("idempotent-replayed").is_none());
    assert_eq!(*store.releases.lock().unwrap(), 2);
}

#[actix_web::test]
async fn a_release_that_fails_is_retried_so_the_key_frees_up() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.orders
        .expect_find_by_id()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.payments
        .expect_latest_for_order()
        .returning(|_| Ok(Some(payment(PaymentStatus::Confirming, 79_000))));
    let store = m.idempotency.clone();
    *store.failing_releases.lock().unwrap() = 1;
    let app = app!(m);
    let confirm = || {
        TestRequest::post()
            .uri("/v1/payments/confirm")
            .insert_header(bearer(BUYER))
            .insert_header(("idempotency-key", "c-2"))
            .set_json(json!({"orderKey": ORDER_KEY, "paymentKey": "pk_1", "amount": 79_000}))
            .to_request()
    };
    // 202 is not stored; its release fails (the store is "down"), so the key stays claimed.
    assert_eq!(call_service(&app, confirm()).await.status(), 202);
    problem(
        call_service(&app, confirm()).await,
        409,
        "IDEMPOTENCY_IN_PROGRESS",
    )
    .await;
    // The background retry releases it once the store answers again.
    for _ in 0..50 {
        if *store.releases.lock().unwrap() >= 2 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(*store.releases.lock().unwrap(), 2);
    assert_eq!(call_service(&app, confirm()).await.status(), 202);
}

#[actix_web::test]
async fn invalid_keys_are_400_and_unauthenticated_calls_401() {
    let app = app!(placing(0));
    let long = "k".repeat(256);
    for key in ["", "with space", long.as_str()] {
        problem(
            call_service(&app, place(BUYER, key, 1).to_request()).await,
            400,
            "INVALID_IDEMPOTENCY_KEY",
        )
        .await;
    }
    let req = TestRequest::post()
        .uri("/v1/orders")
        .insert_header(("idempotency-key", "k-1"))
        .set_json(json!({"productId": 1, "quantity": 1}))
        .to_request();
    problem(call_service(&app, req).await, 401, "UNAUTHORIZED").await;
}

#[actix_web::test]
async fn reads_ignore_the_header() {
    let mut m = Mocks::new();
    m.carts.expect_lines().times(2).returning(|_| Ok(vec![]));
    let app = app!(m);
    for _ in 0..2 {
        let req = TestRequest::get()
            .uri("/v1/cart")
            .insert_header(bearer(BUYER))
            .insert_header(("idempotency-key", "k-1"))
            .to_request();
        let res = call_service(&app, req).await;
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
}
