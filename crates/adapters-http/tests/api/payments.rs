use actix_web::test::{TestRequest, call_service};
use domain::model::*;
use domain::ports::{GatewayApproval, GatewayOutcome, ReserveError};
use serde_json::json;

use crate::app;
use crate::support::*;

fn address() -> serde_json::Value {
    json!({"recipient": "홍길동", "phone": "010-1234-5678", "zipCode": "06236",
           "address1": "서울 강남구 테헤란로 1", "address2": "101호"})
}

fn request_payment(body: serde_json::Value) -> TestRequest {
    TestRequest::post()
        .uri("/v1/payments")
        .insert_header(bearer(BUYER))
        .set_json(body)
}

#[actix_web::test]
async fn requests_a_payment() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.points.expect_balance().returning(|_| Ok(won(10_000)));
    m.payments
        .expect_prepare()
        .withf(|r| {
            r.used_point == won(1_000)
                && r.amount == won(78_000)
                && r.shipping_address.address2() == Some("101호")
        })
        .times(1)
        .returning(|r| {
            let mut p = payment(PaymentStatus::Ready, r.amount.won());
            p.used_point = r.used_point;
            Ok(p)
        });
    let app = app!(m);
    let res = call_service(
        &app,
        request_payment(
            json!({"orderKey": ORDER_KEY, "usePoint": 1_000, "shippingAddress": address()}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        json(res).await,
        json!({"paymentId": 500, "orderKey": ORDER_KEY, "status": "READY", "amount": 78_000,
               "itemsTotal": 79_000, "couponDiscount": 0, "usedPoint": 1_000, "shippingFee": 0})
    );
}

#[actix_web::test]
async fn payment_requests_answer_each_failure() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.points.expect_balance().returning(|_| Ok(won(100)));
    m.coupons.expect_find_owned().returning(|_, _| Ok(None));
    m.payments.expect_prepare().never();
    let app = app!(m);

    let body = problem(
        call_service(
            &app,
            request_payment(
                json!({"orderKey": ORDER_KEY, "usePoint": 5_000, "shippingAddress": address()}),
            )
            .to_request(),
        )
        .await,
        409,
        "INSUFFICIENT_POINTS",
    )
    .await;
    assert_eq!(body["balance"], 100);

    problem(
        call_service(
            &app,
            request_payment(
                json!({"orderKey": ORDER_KEY, "ownedCouponId": 3, "shippingAddress": address()}),
            )
            .to_request(),
        )
        .await,
        404,
        "COUPON_NOT_FOUND",
    )
    .await;

    let mut bad = address();
    bad["zipCode"] = json!("12");
    let body = problem(
        call_service(
            &app,
            request_payment(json!({"orderKey": ORDER_KEY, "shippingAddress": bad})).to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["detail"], "shippingAddress: zipCode must be 5 digits");

    problem(
        call_service(
            &app,
            request_payment(json!({"orderKey": ORDER_KEY})).to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    problem(
        call_service(
            &app,
            request_payment(
                json!({"orderKey": ORDER_KEY, "usePoint": -1, "shippingAddress": address()}),
            )
            .to_request(),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
}

#[actix_web::test]
async fn points_beyond_the_payable_amount_are_400() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.points.expect_balance().returning(|_| Ok(won(1_000_000)));
    let app = app!(m);
    let body = problem(
        call_service(
            &app,
            request_payment(
                json!({"orderKey": ORDER_KEY, "usePoint": 80_000, "shippingAddress": address()}),
            )
            .to_request(),
        )
        .await,
        400,
        "POINTS_EXCEED_PAYABLE",
    )
    .await;
    assert_eq!(body["payable"], 79_000);
}

fn confirm(payment_key: &str, amount: i64) -> TestRequest {
    TestRequest::post()
        .uri("/v1/payments/confirm")
        .insert_header(bearer(BUYER))
        .set_json(json!({"orderKey": ORDER_KEY, "paymentKey": payment_key, "amount": amount}))
}

/// Mocks for a confirm that reaches the gateway: the order is CREATED, its READY payment is
/// 79,000 won, the reservation succeeds; after settling, the payment reads as `settled`.
fn confirming(settled: PaymentStatus, outcome: GatewayOutcome) -> Mocks {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.orders
        .expect_find_by_id()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Paid))));
    let mut reads = 0;
    m.payments.expect_latest_for_order().returning(move |_| {
        reads += 1;
        Ok(Some(if reads == 1 {
            payment(PaymentStatus::Ready, 79_000)
        } else {
            payment(settled, 79_000)
        }))
    });
    m.payments
        .expect_reserve()
        .returning(|_| Ok(payment(PaymentStatus::Confirming, 79_000)));
    m.payments.expect_approve().returning(|_| Ok(()));
    m.payments.expect_release().returning(|_| Ok(()));
    m.gateway
        .expect_confirm()
        .times(1)
        .returning(move |_| outcome.clone());
    m
}

#[actix_web::test]
async fn an_approved_confirm_answers_the_paid_order() {
    let m = confirming(
        PaymentStatus::Approved,
        GatewayOutcome::Approved(GatewayApproval {
            method: "카드".into(),
            approved_at: now(),
        }),
    );
    let app = app!(m);
    let res = call_service(&app, confirm("pk_1", 79_000).to_request()).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["status"], "PAID");
    assert_eq!(body["payment"]["status"], "APPROVED");
}

#[actix_web::test]
async fn an_unknown_outcome_is_202_confirming() {
    let m = confirming(
        PaymentStatus::Confirming,
        GatewayOutcome::Unknown("timeout".into()),
    );
    let app = app!(m);
    let res = call_service(&app, confirm("timeout-1", 79_000).to_request()).await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        json(res).await,
        json!({"status": "CONFIRMING", "orderKey": ORDER_KEY})
    );
}

#[actix_web::test]
async fn a_declined_confirm_is_402_with_the_gateways_message() {
    let m = confirming(
        PaymentStatus::Failed,
        GatewayOutcome::Declined(PaymentFailure {
            code: "REJECT_CARD_PAYMENT".into(),
            message: "한도초과 혹은 잔액부족으로 결제에 실패했습니다".into(),
        }),
    );
    let app = app!(m);
    let body = problem(
        call_service(&app, confirm("decline-1", 79_000).to_request()).await,
        402,
        "PAYMENT_DECLINED",
    )
    .await;
    assert_eq!(
        body["detail"],
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다"
    );
    assert_eq!(body["gatewayCode"], "REJECT_CARD_PAYMENT");

    let req = TestRequest::get().uri("/metrics").to_request();
    let text = String::from_utf8(
        actix_web::test::read_body(call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("payments_declined_total 1"));
}

#[actix_web::test]
async fn confirm_conflicts_and_mismatches() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.payments
        .expect_latest_for_order()
        .returning(|_| Ok(Some(payment(PaymentStatus::Ready, 79_000))));
    m.payments.expect_reserve().returning(|_| {
        Err(ReserveError::OutOfStock {
            product_id: ProductId::new(2),
        })
    });
    m.gateway.expect_confirm().never();
    let app = app!(m);

    let body = problem(
        call_service(&app, confirm("pk_1", 1).to_request()).await,
        400,
        "AMOUNT_MISMATCH",
    )
    .await;
    assert_eq!(body["expectedAmount"], 79_000);

    let body = problem(
        call_service(&app, confirm("pk_1", 79_000).to_request()).await,
        409,
        "OUT_OF_STOCK",
    )
    .await;
    assert_eq!(body["productId"], 2);

    problem(
        call_service(&app, confirm("has space", 79_000).to_request()).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
}

#[actix_web::test]
async fn confirming_without_a_payment_is_a_conflict() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.payments.expect_latest_for_order().returning(|_| Ok(None));
    let app = app!(m);
    problem(
        call_service(&app, confirm("pk_1", 79_000).to_request()).await,
        409,
        "PAYMENT_NOT_REQUESTED",
    )
    .await;
}

#[actix_web::test]
async fn records_the_gateways_failure_redirect() {
    let mut m = Mocks::new();
    m.orders
        .expect_find_by_key()
        .returning(|_| Ok(Some(order(BUYER, OrderStatus::Created))));
    m.payments
        .expect_latest_for_order()
        .returning(|_| Ok(Some(payment(PaymentStatus::Ready, 79_000))));
    m.payments
        .expect_record_failure()
        .withf(|_, f, _| f.code == "PAY_PROCESS_CANCELED")
        .times(1)
        .returning(|_, _, _| Ok(()));
    m.payments.expect_find().returning(|_| {
        let mut p = payment(PaymentStatus::Failed, 79_000);
        p.failure = Some(PaymentFailure {
            code: "PAY_PROCESS_CANCELED".into(),
            message: "취소됨".into(),
        });
        Ok(Some(p))
    });
    let app = app!(m);
    let req = TestRequest::post()
        .uri("/v1/payments/fail")
        .insert_header(bearer(BUYER))
        .set_json(
            json!({"orderKey": ORDER_KEY, "code": "PAY_PROCESS_CANCELED", "message": "취소됨"}),
        )
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json(res).await,
        json!({"paymentId": 500, "orderKey": ORDER_KEY, "status": "FAILED",
               "failureCode": "PAY_PROCESS_CANCELED", "failureMessage": "취소됨"})
    );
}
