use actix_web::test::{TestRequest, call_service};
use domain::model::{Page, ProductId};

use crate::app;
use crate::support::*;

#[actix_web::test]
async fn lists_a_page_of_products_in_camel_case() {
    let mut m = Mocks::new();
    m.products
        .expect_list()
        .withf(|after, limit, active_only| after.is_none() && limit.get() == 20 && *active_only)
        .times(1)
        .returning(|_, _, _| {
            Ok(Page {
                items: vec![product(1, 59_000, true), product(2, 10_000, true)],
                next: Some(ProductId::new(2)),
            })
        });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products")
        .insert_header(bearer(BUYER))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["nextCursor"], "2");
    let first = &body["items"][0];
    assert_eq!(first["id"], 1);
    assert_eq!(first["sellingPrice"], 59_000);
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(first["thumbnailUrl"], "https://img.example/1.png");
    assert!(first["shortDescription"].is_null());
}

#[actix_web::test]
async fn passes_the_cursor_and_limit() {
    let mut m = Mocks::new();
    m.products
        .expect_list()
        .withf(|after, limit, _| *after == Some(ProductId::new(5)) && limit.get() == 2)
        .times(1)
        .returning(|_, _, _| {
            Ok(Page {
                items: vec![],
                next: None,
            })
        });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products?cursor=5&limit=2")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert!(body["nextCursor"].is_null());
}

#[actix_web::test]
async fn bad_cursors_and_limits_are_400() {
    let mut m = Mocks::new();
    m.products.expect_list().never();
    let app = app!(m);
    for uri in [
        "/v1/products?cursor=abc",
        "/v1/products?cursor=-3",
        "/v1/products?limit=101",
        "/v1/products?limit=0",
        "/v1/products?limit=ten",
        "/v1/products?sort=name",
    ] {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header(bearer(BUYER))
            .to_request();
        problem(call_service(&app, req).await, 400, "VALIDATION_ERROR").await;
    }
}

#[actix_web::test]
async fn gets_one_product_or_404() {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .returning(|id| Ok((id == ProductId::new(3)).then(|| product(3, 1_000, false))));
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products/3")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(body["id"], 3);
    assert_eq!(body["status"], "INACTIVE");

    let req = TestRequest::get()
        .uri("/v1/products/4")
        .insert_header(bearer(BUYER))
        .to_request();
    problem(call_service(&app, req).await, 404, "PRODUCT_NOT_FOUND").await;

    for uri in [
        "/v1/products/abc",
        "/v1/products/0",
        "/v1/products/99999999999999999999",
    ] {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header(bearer(BUYER))
            .to_request();
        problem(call_service(&app, req).await, 400, "VALIDATION_ERROR").await;
    }
}
