use actix_web::test::{TestRequest, call_service};
use domain::model::{Page, UserId};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use crate::app;
use crate::support::*;

fn signed(claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn in_one_hour() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() + 3_600
}

fn get_products(authorization: Option<String>) -> TestRequest {
    let req = TestRequest::get().uri("/v1/products");
    match authorization {
        Some(value) => req.insert_header(("authorization", value)),
        None => req,
    }
}

#[actix_web::test]
async fn missing_or_malformed_credentials_are_401_with_a_challenge() {
    let app = app!(Mocks::new());
    for authorization in [
        None,
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer".to_owned()),
        Some("Bearer not.a.jwt".to_owned()),
    ] {
        let sent = authorization.is_some();
        let res = call_service(&app, get_products(authorization).to_request()).await;
        let challenge = res
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        if sent && challenge != "Bearer" {
            assert!(challenge.contains("invalid_token"));
        }
        problem(res, 401, "UNAUTHORIZED").await;
    }
}

#[actix_web::test]
async fn bad_signatures_expired_tokens_and_missing_claims_are_401() {
    let app = app!(Mocks::new());
    let tokens = [
        signed(
            &json!({"sub": "7", "exp": in_one_hour()}),
            b"some other secret entirely",
        ),
        signed(&json!({"sub": "7", "exp": in_one_hour() - 7_200}), SECRET),
        signed(&json!({"sub": "7"}), SECRET),
        signed(&json!({"exp": in_one_hour()}), SECRET),
        signed(&json!({"sub": "seven", "exp": in_one_hour()}), SECRET),
        signed(&json!({"sub": "-7", "exp": in_one_hour()}), SECRET),
    ];
    for token in tokens {
        let res = call_service(
            &app,
            get_products(Some(format!("Bearer {token}"))).to_request(),
        )
        .await;
        problem(res, 401, "UNAUTHORIZED").await;
    }
    let expired = keys()
        .issue_token(BUYER, false, time::Duration::hours(-1))
        .unwrap();
    let res = call_service(
        &app,
        get_products(Some(format!("Bearer {expired}"))).to_request(),
    )
    .await;
    let body = problem(res, 401, "UNAUTHORIZED").await;
    assert_eq!(body["detail"], "the token has expired");
}

#[actix_web::test]
async fn the_subject_may_be_a_string_or_a_number() {
    let mut m = Mocks::new();
    m.carts.expect_lines().times(2).returning(|user| {
        assert_eq!(user, UserId::new(42));
        Ok(vec![])
    });
    let app = app!(m);
    for sub in [json!("42"), json!(42)] {
        let token = signed(&json!({"sub": sub, "exp": in_one_hour()}), SECRET);
        let req = TestRequest::get()
            .uri("/v1/cart")
            .insert_header(("authorization", format!("bearer {token}")))
            .to_request();
        assert_eq!(call_service(&app, req).await.status(), 200);
    }
}

#[actix_web::test]
async fn admin_tokens_work_on_buyer_routes_too() {
    let mut m = Mocks::new();
    m.products.expect_list().returning(|_, _, _| {
        Ok(Page {
            items: vec![],
            next: None,
        })
    });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/products")
        .insert_header(admin_bearer())
        .to_request();
    assert_eq!(call_service(&app, req).await.status(), 200);
}
