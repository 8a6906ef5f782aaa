use actix_web::test::{TestRequest, call_service};
use domain::model::*;
use domain::ports::UpdateProductError;
use serde_json::json;

use crate::app;
use crate::support::*;

fn post(uri: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(admin_bearer())
        .set_json(body)
}

#[actix_web::test]
async fn creates_a_product() {
    let mut m = Mocks::new();
    m.products
        .expect_create()
        .withf(|p| p.name == "운동화" && p.selling_price == won(59_000) && p.stock == 100)
        .times(1)
        .returning(|p| {
            Ok(Product {
                id: ProductId::new(9),
                name: p.name,
                thumbnail_url: p.thumbnail_url,
                short_description: p.short_description,
                price: p.price,
                selling_price: p.selling_price,
                stock: p.stock,
                status: ProductStatus::Active,
            })
        });
    let app = app!(m);
    let res = call_service(
        &app,
        post(
            "/admin/v1/products",
            json!({"name": "운동화", "price": 60_000, "sellingPrice": 59_000, "stock": 100}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        json(res).await,
        json!({"id": 9, "name": "운동화", "price": 60_000, "sellingPrice": 59_000, "stock": 100,
               "status": "ACTIVE", "thumbnailUrl": null, "shortDescription": null})
    );
}

#[actix_web::test]
async fn invalid_products_are_400() {
    let mut m = Mocks::new();
    m.products.expect_create().never();
    let app = app!(m);
    for body in [
        json!({"name": "a", "price": 1_000, "sellingPrice": 2_000, "stock": 1}),
        json!({"name": " ", "price": 1_000, "stock": 1}),
        json!({"name": "a", "price": 0, "stock": 1}),
        json!({"name": "a", "price": 1_000, "stock": -1}),
        json!({"name": "a", "price": 1_000, "stock": 1, "color": "red"}),
        json!({"name": "a", "price": "1000", "stock": 1}),
    ] {
        problem(
            call_service(&app, post("/admin/v1/products", body).to_request()).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
    }
}

#[actix_web::test]
async fn patches_a_product() {
    let mut m = Mocks::new();
    m.products
        .expect_find()
        .returning(|id| Ok((id.value() != 404).then(|| product(id.value(), 10_000, true))));
    m.products
        .expect_update()
        .withf(|_, patch| patch.status == Some(ProductStatus::Inactive))
        .returning(|id, _| {
            if id.value() == 409 {
                Err(UpdateProductError::Invalid)
            } else {
                Ok(product(id.value(), 10_000, false))
            }
        });
    let app = app!(m);
    let patch = |id: i64, body: serde_json::Value| {
        TestRequest::patch()
            .uri(&format!("/admin/v1/products/{id}"))
            .insert_header(admin_bearer())
            .set_json(body)
            .to_request()
    };
    let res = call_service(&app, patch(3, json!({"status": "INACTIVE"}))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["status"], "INACTIVE");
    problem(
        call_service(&app, patch(404, json!({"status": "INACTIVE"}))).await,
        404,
        "PRODUCT_NOT_FOUND",
    )
    .await;
    problem(
        call_service(&app, patch(409, json!({"status": "INACTIVE"}))).await,
        409,
        "CONCURRENT_UPDATE",
    )
    .await;
    problem(
        call_service(&app, patch(3, json!({}))).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(&app, patch(3, json!({"status": "GONE"}))).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    let body = problem(
        call_service(&app, patch(3, json!({"sellingPrice": 20_000}))).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("sellingPrice"));
}

#[actix_web::test]
async fn creates_coupons_and_checks_their_rules() {
    let mut m = Mocks::new();
    m.products.expect_find_many().returning(|ids| {
        Ok(ids
            .into_iter()
            .filter(|id| id.value() == 1)
            .map(|id| product(id.value(), 1_000, true))
            .collect())
    });
    m.coupons
        .expect_create()
        .withf(|c| c.product_ids == vec![ProductId::new(1)] && c.issue_limit == Some(10))
        .times(1)
        .returning(|c| {
            Ok(Coupon {
                id: CouponId::new(5),
                name: c.name,
                kind: c.kind,
                min_order_amount: c.min_order_amount,
                valid_until: c.valid_until,
                product_ids: c.product_ids,
                issue_limit: c.issue_limit,
                issued_count: 0,
            })
        });
    let app = app!(m);
    let valid = json!({"name": "신규 5,000원", "kind": "FIXED", "amount": 5_000,
                       "validUntil": "2030-12-31T23:59:59+09:00", "productIds": [1], "issueLimit": 10});
    let res = call_service(&app, post("/admin/v1/coupons", valid.clone()).to_request()).await;
    assert_eq!(res.status(), 201);
    let body = json(res).await;
    assert_eq!(body["id"], 5);
    assert_eq!(body["amount"], 5_000);
    assert_eq!(body["validUntil"], "2030-12-31T14:59:59Z");
    assert_eq!(body["issuedCount"], 0);

    let mut unknown_product = valid.clone();
    unknown_product["productIds"] = json!([1, 2]);
    problem(
        call_service(
            &app,
            post("/admin/v1/coupons", unknown_product).to_request(),
        )
        .await,
        404,
        "PRODUCT_NOT_FOUND",
    )
    .await;

    for body in [
        json!({"name": "r", "kind": "RATE", "validUntil": "2030-12-31T00:00:00Z"}),
        json!({"name": "r", "kind": "RATE", "percent": 101, "validUntil": "2030-12-31T00:00:00Z"}),
        json!({"name": "r", "kind": "RATE", "percent": 10, "amount": 5, "validUntil": "2030-12-31T00:00:00Z"}),
        json!({"name": "f", "kind": "FIXED", "validUntil": "2030-12-31T00:00:00Z"}),
        json!({"name": "f", "kind": "FIXED", "amount": 5, "validUntil": "tomorrow"}),
        json!({"name": "f", "kind": "FIXED", "amount": 5, "validUntil": "2020-01-01T00:00:00Z"}),
        json!({"name": "f", "kind": "FIXED", "amount": 5, "validUntil": "2030-12-31T00:00:00Z", "issueLimit": 0}),
        json!({"name": "f", "kind": "PERCENT", "amount": 5, "validUntil": "2030-12-31T00:00:00Z"}),
    ] {
        problem(
            call_service(&app, post("/admin/v1/coupons", body).to_request()).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
    }
}

#[actix_web::test]
async fn buyers_cannot_use_admin_endpoints() {
    let app = app!(Mocks::new());
    for (method, uri) in [
        ("POST", "/admin/v1/products"),
        ("PATCH", "/admin/v1/products/1"),
        ("POST", "/admin/v1/coupons"),
        ("POST", "/admin/v1/users/7/points"),
    ] {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(uri)
            .insert_header(bearer(BUYER))
            .set_json(json!({}))
            .to_request();
        problem(call_service(&app, req).await, 403, "FORBIDDEN").await;
    }
}
