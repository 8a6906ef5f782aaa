//! The background jobs as the server runs them: on their own timers, against a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use app::{Application, Overrides};
use common::{fresh_database, test_config};
use domain::model::UserId;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = match body {
        Some(body) => http.post(url).json(&body),
        None => http.get(url),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `check` every 200 ms until it holds, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_expire_unpaid_orders_and_reconcile_pending_payments() {
    let database = fresh_database().await;
    let mut config = test_config(database.url());
    config.order_ttl = Duration::from_secs(3);
    config.expire_interval = Duration::from_secs(1);
    config.reconcile_interval = Duration::from_secs(1);
    config.reconcile_after = Duration::from_secs(1);
    let application = Application::build_with(config, Overrides::default())
        .await
        .unwrap();
    let base = format!("http://{}", application.address());
    let admin = application.token(UserId::new(9000), true).unwrap();
    let buyer = application.token(UserId::new(4), false).unwrap();
    let handle = application.handle();
    let running = tokio::spawn(application.run_until_stopped());
    let http = reqwest::Client::new();

    let (_, product) = call(
        &http,
        format!("{base}/admin/v1/products"),
        &admin,
        Some(json!({"name": "우산", "price": 9_000, "stock": 5})),
    )
    .await;
    let order = |http: reqwest::Client| {
        let (base, buyer) = (base.clone(), buyer.clone());
        let product = product["id"].clone();
        async move {
            let (status, body) = call(
                &http,
                format!("{base}/v1/orders"),
                &buyer,
                Some(json!({"productId": product, "quantity": 1})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["orderKey"].as_str().unwrap().to_owned()
        }
    };
    let abandoned = order(http.clone()).await;
    let pending = order(http.clone()).await;
    let address = json!({"recipient": "홍길동", "phone": "010-1234-5678", "zipCode": "06236", "address1": "서울"});
    let (status, payment) = call(
        &http,
        format!("{base}/v1/payments"),
        &buyer,
        Some(json!({"orderKey": pending, "shippingAddress": address})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    // The gateway times out: the payment stays CONFIRMING for the reconciler.
    let (status, body) = call(
        &http,
        format!("{base}/v1/payments/confirm"),
        &buyer,
        Some(
            json!({"orderKey": pending, "paymentKey": "timeout-jobs", "amount": payment["amount"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let status_of = |key: String| {
        let (http, base, buyer) = (http.clone(), base.clone(), buyer.clone());
        async move {
            call(&http, format!("{base}/v1/orders/{key}"), &buyer, None)
                .await
                .1["status"]
                .clone()
        }
    };
    // The abandoned order expires; the pending one is not expired but paid by the reconciler,
    // although its own expiry passes meanwhile.
    assert!(
        eventually(Duration::from_secs(30), || async {
            status_of(abandoned.clone()).await == "EXPIRED"
        })
        .await
    );
    assert!(
        eventually(Duration::from_secs(30), || async {
            status_of(pending.clone()).await == "PAID"
        })
        .await
    );

    handle.stop(true).await;
    running.await.unwrap().unwrap();
}
