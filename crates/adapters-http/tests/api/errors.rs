use actix_web::test::{TestRequest, call_service, read_body};

use crate::app;
use crate::support::*;

fn place(body: &'static str) -> TestRequest {
    TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

#[actix_web::test]
async fn bad_bodies_are_problems_not_500s() {
    let app = app!(Mocks::new());
    problem(
        call_service(&app, place("{\"productId\": 1,").to_request()).await,
        400,
        "MALFORMED_JSON",
    )
    .await;
    problem(
        call_service(&app, place("").to_request()).await,
        400,
        "MALFORMED_JSON",
    )
    .await;
    let body = problem(
        call_service(
            &app,
            place("{\"productId\": 1, \"quantity\": 1, \"coupon\": 3}").to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `coupon`")
    );
    problem(
        call_service(
            &app,
            place("{\"productId\": 1, \"quantity\": \"two\"}").to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, place("{\"productId\": 1}").to_request()).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, place("\"order\"").to_request()).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(
            &app,
            place("{\"productId\": 1, \"quantity\": 1.5}").to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;

    let req = TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .insert_header(("content-type", "text/plain"))
        .set_payload("{\"productId\": 1, \"quantity\": 1}")
        .to_request();
    problem(call_service(&app, req).await, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[actix_web::test]
async fn oversized_bodies_are_413() {
    let app = app!(Mocks::new());
    let huge = format!(
        "{{\"productId\": 1, \"quantity\": 1, \"pad\": \"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let req = TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .insert_header(("content-type", "application/json"))
        .set_payload(huge.clone())
        .to_request();
    problem(call_service(&app, req).await, 413, "PAYLOAD_TOO_LARGE").await;

    let req = TestRequest::post()
        .uri(&format!("/v1/orders/{ORDER_KEY}/cancel"))
        .insert_header(bearer(BUYER))
        .set_payload(huge.clone())
        .to_request();
    problem(call_service(&app, req).await, 413, "PAYLOAD_TOO_LARGE").await;

    let req = TestRequest::post()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .insert_header(("idempotency-key", "big-1"))
        .insert_header(("content-type", "application/json"))
        .set_payload(huge)
        .to_request();
    problem(call_service(&app, req).await, 413, "PAYLOAD_TOO_LARGE").await;
}

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = app!(Mocks::new());
    for uri in ["/", "/v1", "/v1/nothing", "/v2/orders", "/admin/v1/users"] {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header(bearer(BUYER))
            .to_request();
        problem(call_service(&app, req).await, 404, "NOT_FOUND").await;
    }
    let req = TestRequest::delete()
        .uri("/v1/orders")
        .insert_header(bearer(BUYER))
        .to_request();
    let res = call_service(&app, req).await;
    let allow = res
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    problem(res, 405, "METHOD_NOT_ALLOWED").await;

    let req = TestRequest::put().uri("/health/live").to_request();
    problem(call_service(&app, req).await, 405, "METHOD_NOT_ALLOWED").await;
}

#[actix_web::test]
async fn an_unavailable_store_is_503() {
    let mut m = Mocks::new();
    m.products.expect_find().returning(|_| Err(unavailable()));
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products/1")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = problem(call_service(&app, req).await, 503, "SERVICE_UNAVAILABLE").await;
    assert!(!body["detail"].as_str().unwrap().contains("pool"));
}

#[actix_web::test]
async fn an_unknown_error_is_a_500_that_leaks_nothing() {
    let mut m = Mocks::new();
    m.products.expect_find().returning(|_| {
        Err(anyhow::anyhow!(
            "connection to postgres://app:hunter2@db/shop refused"
        ))
    });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products/1")
        .insert_header(bearer(BUYER))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 500);
    let bytes = read_body(res).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("hunter2") && !text.contains("postgres"),
        "{text}"
    );
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "INTERNAL_ERROR");
    assert_eq!(body["status"], 500);
}
