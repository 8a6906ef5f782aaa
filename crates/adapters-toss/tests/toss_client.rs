//! The Toss client against a local fake Toss (wiremock on 127.0.0.1): the exact requests it sends
//! and what it makes of each kind of answer.

// Test helpers are plain functions, which clippy.toml's "allow in tests" does not cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use adapters_toss::{SecretKey, TossConfig, TossGateway};
use domain::model::{Money, OrderKey, PaymentFailure, PaymentKey};
use domain::ports::{
    CancelOutcome, GatewayApproval, GatewayCancel, GatewayConfirm, GatewayLookup, GatewayOutcome,
    LookupOutcome, PaymentGateway,
};
use serde_json::{Value, json};
use time::macros::datetime;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "test_sk_local_fake_key_0001";
/// `Basic base64("test_sk_local_fake_key_0001:")`, computed outside the code under test.
const BASIC: &str = "Basic dGVzdF9za19sb2NhbF9mYWtlX2tleV8wMDAxOg==";
const ORDER: &str = "01HPZ8Q6Y8D3J4K5M6N7P8Q9RS";
const PAYMENT_KEY: &str = "tgen_20240213121757MvuS8";

fn gateway_at(base: &str, timeout: Duration) -> TossGateway {
    let config = TossConfig::new(SecretKey::new(SECRET).unwrap())
        .with_api_base(base)
        .unwrap()
        .with_timeout(timeout)
        .with_connect_timeout(Duration::from_secs(1));
    TossGateway::new(&config).unwrap()
}

fn gateway(server: &MockServer) -> TossGateway {
    gateway_at(&server.uri(), Duration::from_secs(5))
}

fn order_key() -> OrderKey {
    OrderKey::parse(ORDER).unwrap()
}

fn confirm_request() -> GatewayConfirm {
    GatewayConfirm {
        payment_key: PaymentKey::new(PAYMENT_KEY).unwrap(),
        order_key: order_key(),
        amount: Money::new(15_000).unwrap(),
        idempotency_key: "confirm-42".to_owned(),
    }
}

fn cancel_request() -> GatewayCancel {
    GatewayCancel {
        payment_key: PaymentKey::new(PAYMENT_KEY).unwrap(),
        order_key: order_key(),
        amount: Money::new(12_000).unwrap(),
        reason: "고객 변심".to_owned(),
        idempotency_key: "cancel-42".to_owned(),
    }
}

fn lookup_request() -> GatewayLookup {
    GatewayLookup {
        order_key: order_key(),
        payment_key: PaymentKey::new(PAYMENT_KEY).unwrap(),
    }
}

/// A Toss `Payment` object, trimmed to the usual fields.
fn payment(status: &str) -> Value {
    json!({
        "mId": "tosspayments",
        "version": "2022-11-16",
        "paymentKey": PAYMENT_KEY,
        "orderId": ORDER,
        "orderName": "운동화 외 1건",
        "currency": "KRW",
        "method": "카드",
        "status": status,
        "requestedAt": "2024-02-13T12:17:57+09:00",
        "approvedAt": "2024-02-13T12:18:14+09:00",
        "totalAmount": 15000,
        "balanceAmount": 15000,
        "card": { "company": "현대", "number": "433012******123*" },
        "failure": null
    })
}

fn error(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

fn approved() -> GatewayApproval {
    GatewayApproval {
        method: "카드".to_owned(),
        approved_at: datetime!(2024-02-13 12:18:14 +09:00),
    }
}

/// Mounts the one confirm request the client must send, answering `response`.
async fn expect_confirm(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/payments/confirm"))
        .and(header("authorization", BASIC))
        .and(header("idempotency-key", "confirm-42"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "paymentKey": PAYMENT_KEY,
            "orderId": ORDER,
            "amount": 15000
        })))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn expect_cancel(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(format!("/v1/payments/{PAYMENT_KEY}/cancel")))
        .and(header("authorization", BASIC))
        .and(header("idempotency-key", "cancel-42"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({ "cancelReason": "고객 변심", "cancelAmount": 12000 }),
        ))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn expect_lookup(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/payments/orders/{ORDER}")))
        .and(header("authorization", BASIC))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

// ---- confirm ----

#[tokio::test]
async fn confirm_done_is_approved_with_method_and_approval_time() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(200).set_body_json(payment("DONE")),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert_eq!(outcome, GatewayOutcome::Approved(approved()));
}

#[tokio::test]
async fn confirm_rejected_card_is_declined_with_tosss_code_and_message() {
    let server = MockServer::start().await;
    let message = "한도초과 혹은 잔액부족으로 결제에 실패했습니다.";
    expect_confirm(
        &server,
        ResponseTemplate::new(403).set_body_json(error("REJECT_CARD_PAYMENT", message)),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert_eq!(
        outcome,
        GatewayOutcome::Declined(PaymentFailure {
            code: "REJECT_CARD_PAYMENT".to_owned(),
            message: message.to_owned(),
        })
    );
}

#[tokio::test]
async fn confirm_already_processed_is_resolved_by_a_look_up_that_finds_it_done() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(400).set_body_json(error(
            "ALREADY_PROCESSED_PAYMENT",
            "이미 처리된 결제 입니다.",
        )),
    )
    .await;
    expect_lookup(
        &server,
        ResponseTemplate::new(200).set_body_json(payment("DONE")),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert_eq!(outcome, GatewayOutcome::Approved(approved()));
}

#[tokio::test]
async fn confirm_already_processed_but_not_done_is_unknown() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(400).set_body_json(error(
            "ALREADY_PROCESSED_PAYMENT",
            "이미 처리된 결제 입니다.",
        )),
    )
    .await;
    expect_lookup(
        &server,
        ResponseTemplate::new(200).set_body_json(payment("IN_PROGRESS")),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert!(
        matches!(&outcome, GatewayOutcome::Unknown(reason) if reason.contains("ALREADY_PROCESSED_PAYMENT")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn confirm_answered_about_another_payment_is_unknown_not_approved() {
    // Toss replays the first answer to an idempotency key for 15 days, even to another payment
    // that reuses the key (a reset database on the same secret key).
    let server = MockServer::start().await;
    let mut someone_elses = payment("DONE");
    someone_elses["paymentKey"] = json!("tgen_from_a_previous_database");
    someone_elses["orderId"] = json!("01HN0000000000000000000000");
    expect_confirm(
        &server,
        ResponseTemplate::new(200).set_body_json(someone_elses),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert!(matches!(outcome, GatewayOutcome::Unknown(_)), "{outcome:?}");
}

#[tokio::test]
async fn confirm_500_is_unknown() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(500).set_body_json(error(
            "FAILED_INTERNAL_SYSTEM_PROCESSING",
            "내부 시스템 처리 작업이 실패했습니다.",
        )),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert_eq!(
        outcome,
        GatewayOutcome::Unknown(
            "HTTP 500 FAILED_INTERNAL_SYSTEM_PROCESSING: 내부 시스템 처리 작업이 실패했습니다."
                .to_owned()
        )
    );
}

#[tokio::test]
async fn confirm_retryable_4xx_and_429_are_unknown() {
    for response in [
        ResponseTemplate::new(400).set_body_json(error("PROVIDER_ERROR", "일시적인 오류")),
        ResponseTemplate::new(429).set_body_json(error("TOO_MANY_REQUESTS", "slow down")),
        ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
    ] {
        let server = MockServer::start().await;
        expect_confirm(&server, response).await;
        let outcome = gateway(&server).confirm(confirm_request()).await;
        assert!(matches!(outcome, GatewayOutcome::Unknown(_)), "{outcome:?}");
    }
}

#[tokio::test]
async fn confirm_slower_than_the_timeout_is_unknown() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(payment("DONE"))
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let gateway = gateway_at(&server.uri(), Duration::from_millis(200));

    let started = Instant::now();
    let outcome = gateway.confirm(confirm_request()).await;

    assert_eq!(
        outcome,
        GatewayOutcome::Unknown("no answer within 200 ms".to_owned())
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn confirm_with_the_connection_refused_is_unknown() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);

    let outcome = gateway_at(&base, Duration::from_secs(2))
        .confirm(confirm_request())
        .await;

    assert!(
        matches!(&outcome, GatewayOutcome::Unknown(reason) if reason.starts_with("could not connect")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_rejected_secret_key_declines_without_retrying() {
    let server = MockServer::start().await;
    expect_confirm(
        &server,
        ResponseTemplate::new(401).set_body_json(error(
            "UNAUTHORIZED_KEY",
            "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        )),
    )
    .await;

    let outcome = gateway(&server).confirm(confirm_request()).await;

    assert!(
        matches!(&outcome, GatewayOutcome::Declined(f) if f.code == "UNAUTHORIZED_KEY"),
        "{outcome:?}"
    );
}

// ---- cancel ----

#[tokio::test]
async fn cancel_done_is_canceled() {
    for status in ["CANCELED", "PARTIAL_CANCELED"] {
        let server = MockServer::start().await;
        expect_cancel(
            &server,
            ResponseTemplate::new(200).set_body_json(payment(status)),
        )
        .await;
        let outcome = gateway(&server).cancel(cancel_request()).await;
        assert_eq!(outcome, CancelOutcome::Canceled, "{status}");
    }
}

#[tokio::test]
async fn cancel_of_an_already_refunded_payment_is_canceled() {
    let server = MockServer::start().await;
    expect_cancel(
        &server,
        ResponseTemplate::new(400).set_body_json(error(
            "ALREADY_CANCELED_PAYMENT",
            "이미 취소된 결제 입니다.",
        )),
    )
    .await;

    assert_eq!(
        gateway(&server).cancel(cancel_request()).await,
        CancelOutcome::Canceled
    );
}

#[tokio::test]
async fn cancel_refused_is_rejected_with_tosss_code_and_message() {
    let server = MockServer::start().await;
    expect_cancel(
        &server,
        ResponseTemplate::new(403).set_body_json(error(
            "NOT_CANCELABLE_PAYMENT",
            "취소 할 수 없는 결제 입니다.",
        )),
    )
    .await;

    assert_eq!(
        gateway(&server).cancel(cancel_request()).await,
        CancelOutcome::Rejected(PaymentFailure {
            code: "NOT_CANCELABLE_PAYMENT".to_owned(),
            message: "취소 할 수 없는 결제 입니다.".to_owned(),
        })
    );
}

#[tokio::test]
async fn cancel_5xx_is_unknown() {
    let server = MockServer::start().await;
    expect_cancel(
        &server,
        ResponseTemplate::new(500).set_body_json(error(
            "FAILED_REFUND_PROCESS",
            "은행 응답시간 지연이나 일시적인 오류로 환불요청에 실패했습니다.",
        )),
    )
    .await;

    let outcome = gateway(&server).cancel(cancel_request()).await;

    assert!(matches!(outcome, CancelOutcome::Unknown(_)), "{outcome:?}");
}

#[tokio::test]
async fn payment_keys_are_percent_encoded_in_the_path() {
    let server = MockServer::start().await;
    let mut canceled = payment("CANCELED");
    canceled["paymentKey"] = json!("odd/key?");
    Mock::given(method("POST"))
        .and(path("/v1/payments/odd%2Fkey%3F/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(canceled))
        .expect(1)
        .mount(&server)
        .await;
    let request = GatewayCancel {
        payment_key: PaymentKey::new("odd/key?").unwrap(),
        ..cancel_request()
    };

    assert_eq!(
        gateway(&server).cancel(request).await,
        CancelOutcome::Canceled
    );
}

// ---- look-up ----

#[tokio::test]
async fn lookup_maps_every_payment_status() {
    let cases = [
        ("DONE", LookupOutcome::Approved(approved())),
        ("CANCELED", LookupOutcome::Canceled),
        ("PARTIAL_CANCELED", LookupOutcome::Canceled),
        ("READY", LookupOutcome::NotConfirmed),
        ("IN_PROGRESS", LookupOutcome::NotConfirmed),
        ("WAITING_FOR_DEPOSIT", LookupOutcome::NotConfirmed),
        (
            "EXPIRED",
            LookupOutcome::Declined(PaymentFailure {
                code: "EXPIRED".to_owned(),
                message: "the payment is EXPIRED at Toss Payments".to_owned(),
            }),
        ),
    ];
    for (status, expected) in cases {
        let server = MockServer::start().await;
        expect_lookup(
            &server,
            ResponseTemplate::new(200).set_body_json(payment(status)),
        )
        .await;
        assert_eq!(
            gateway(&server).lookup(lookup_request()).await,
            expected,
            "{status}"
        );
    }
}

#[tokio::test]
async fn lookup_of_an_aborted_payment_carries_its_failure() {
    let server = MockServer::start().await;
    let mut aborted = payment("ABORTED");
    aborted["failure"] = error("REJECT_CARD_COMPANY", "결제 승인이 거절되었습니다.");
    expect_lookup(&server, ResponseTemplate::new(200).set_body_json(aborted)).await;

    assert_eq!(
        gateway(&server).lookup(lookup_request()).await,
        LookupOutcome::Declined(PaymentFailure {
            code: "REJECT_CARD_COMPANY".to_owned(),
            message: "결제 승인이 거절되었습니다.".to_owned(),
        })
    );
}

#[tokio::test]
async fn lookup_not_found_is_not_confirmed_but_a_bare_404_is_unknown() {
    let server = MockServer::start().await;
    expect_lookup(
        &server,
        ResponseTemplate::new(404)
            .set_body_json(error("NOT_FOUND_PAYMENT", "존재하지 않는 결제 입니다.")),
    )
    .await;
    assert_eq!(
        gateway(&server).lookup(lookup_request()).await,
        LookupOutcome::NotConfirmed
    );

    let server = MockServer::start().await;
    expect_lookup(
        &server,
        ResponseTemplate::new(404).set_body_string("<html>no such route</html>"),
    )
    .await;
    let outcome = gateway(&server).lookup(lookup_request()).await;
    assert!(matches!(outcome, LookupOutcome::Unknown(_)), "{outcome:?}");
}

#[tokio::test]
async fn lookup_5xx_is_unknown() {
    let server = MockServer::start().await;
    expect_lookup(&server, ResponseTemplate::new(503)).await;

    assert_eq!(
        gateway(&server).lookup(lookup_request()).await,
        LookupOutcome::Unknown("HTTP 503".to_owned())
    );
}

#[tokio::test]
async fn lookup_sends_no_idempotency_key() {
    let server = MockServer::start().await;
    expect_lookup(
        &server,
        ResponseTemplate::new(200).set_body_json(payment("DONE")),
    )
    .await;

    gateway(&server).lookup(lookup_request()).await;

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn lookup_answered_about_another_attempt_asks_again_by_payment_key() {
    let server = MockServer::start().await;
    let mut earlier = payment("ABORTED");
    earlier["paymentKey"] = json!("tgen_earlier_attempt");
    expect_lookup(&server, ResponseTemplate::new(200).set_body_json(earlier)).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/payments/{PAYMENT_KEY}")))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(payment("DONE")))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        gateway(&server).lookup(lookup_request()).await,
        LookupOutcome::Approved(approved())
    );
}
