use actix_web::test::{TestRequest, call_service};
use domain::model::*;
use serde_json::json;

use crate::app;
use crate::support::*;

#[actix_web::test]
async fn shows_the_balance_and_a_ledger_page() {
    let mut m = Mocks::new();
    m.points.expect_balance().returning(|_| Ok(won(1_500)));
    m.points
        .expect_ledger()
        .withf(|user, after, limit| {
            *user == BUYER && *after == Some(PointEntryId::new(50)) && limit.get() == 1
        })
        .returning(|_, _, _| {
            Ok(Page {
                items: vec![PointEntry {
                    id: PointEntryId::new(9),
                    kind: PointEntryKind::Use,
                    amount: won(500),
                    balance_after: won(1_500),
                    order_key: Some(key()),
                    reason: None,
                    created_at: now(),
                }],
                next: Some(PointEntryId::new(9)),
            })
        });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/points?cursor=50&limit=1")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(
        body,
        json!({"balance": 1_500, "nextCursor": "9", "entries": [
            {"kind": "USE", "amount": 500, "balanceAfter": 1_500, "orderKey": ORDER_KEY,
             "createdAt": "2026-11-28T12:00:00Z"}]})
    );
}

#[actix_web::test]
async fn admins_grant_points() {
    let mut m = Mocks::new();
    m.points
        .expect_grant()
        .withf(|user, amount, reason, _| {
            *user == BUYER && *amount == won(5_000) && reason == "가입 축하"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(won(6_500)));
    let app = app!(m);
    let grant = |body: serde_json::Value| {
        TestRequest::post()
            .uri(&format!("/admin/v1/users/{}/points", BUYER.value()))
            .insert_header(admin_bearer())
            .set_json(body)
            .to_request()
    };
    let res = call_service(&app, grant(json!({"amount": 5_000, "reason": "가입 축하"}))).await;
    assert_eq!(res.status(), 201);
    assert_eq!(json(res).await, json!({"balance": 6_500}));
    for body in [
        json!({"amount": 0, "reason": "x"}),
        json!({"amount": -5, "reason": "x"}),
        json!({"amount": 5, "reason": "   "}),
        json!({"amount": 5}),
    ] {
        problem(
            call_service(&app, grant(body)).await,
            400,
            "VALIDATION_ERROR",
        )
        .await;
    }
}
