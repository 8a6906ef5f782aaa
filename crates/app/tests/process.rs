//! The real `commerce` binary: start, ready, serve, SIGTERM while a request is in flight,
//! restart on the same data; the embedded default; the missing-PostgreSQL message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{JWT_SECRET, fresh_database};
use domain::model::UserId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A running `commerce serve` and what it printed on start.
struct Server {
    child: Child,
    url: String,
    buyer_token: Option<String>,
    admin_token: Option<String>,
    _stdout: Lines<BufReader<ChildStdout>>,
}

fn commerce(envs: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_commerce"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (name, value) in envs {
        command.env(name, value);
    }
    command
}

/// Starts the binary and reads stdout until the ready line (and the tokens, if printed).
async fn start(envs: &[(&str, String)]) -> Server {
    let mut child = commerce(envs).spawn().expect("commerce starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let (mut buyer_token, mut admin_token) = (None, None);
    // The embedded mode prints tokens after the ready line, ending with a "try:" hint.
    let embedded = !envs.iter().any(|(name, _)| *name == "DATABASE_URL");
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("commerce ready on ") {
                url = Some(rest.to_owned());
                if !embedded {
                    break;
                }
            } else if let Some(token) = line.strip_prefix("export BUYER=") {
                buyer_token = Some(token.to_owned());
            } else if let Some(token) = line.strip_prefix("export ADMIN=") {
                admin_token = Some(token.to_owned());
            } else if line.starts_with("try:") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("ready line within 60 s");
    Server {
        child,
        url: url.expect("ready line"),
        buyer_token,
        admin_token,
        _stdout: lines,
    }
}

impl Server {
    /// SIGTERM, then the exit status.
    async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("exits within 60 s")
            .unwrap()
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Orders one unit of `product`, requests payment, and returns (order key, amount).
async fn order_and_request_payment(
    http: &reqwest::Client,
    base: &str,
    buyer: &str,
    product: i64,
) -> (String, i64) {
    let (status, body) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/v1/orders"),
        buyer,
        Some(json!({"productId": product, "quantity": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = body["orderKey"].as_str().unwrap().to_owned();
    let address = json!({"recipient": "홍길동", "phone": "010-1234-5678", "zipCode": "06236", "address1": "서울"});
    let (status, body) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/v1/payments"),
        buyer,
        Some(json!({"orderKey": key, "shippingAddress": address})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (key, body["amount"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_data_survives_a_restart() {
    let database = fresh_database().await;
    let envs = [
        ("DATABASE_URL", database.url().to_owned()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        // Confirms take a while at the "gateway", so one is surely in flight at SIGTERM.
        ("SIMULATED_GATEWAY_LATENCY_MS", "1500".to_owned()),
    ];
    let keys = adapters_http::JwtKeys::new(JWT_SECRET.as_bytes());
    let admin = keys
        .issue_token(UserId::new(9000), true, time::Duration::hours(1))
        .unwrap();
    let buyer = keys
        .issue_token(UserId::new(3), false, time::Duration::hours(1))
        .unwrap();
    let http = reqwest::Client::new();

    let server = start(&envs).await;
    let base = server.url.clone();
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/health/ready"),
        &buyer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, product) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/admin/v1/products"),
        &admin,
        Some(json!({"name": "머그컵", "price": 12_000, "stock": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    let (key, amount) =
        order_and_request_payment(&http, &base, &buyer, product["id"].as_i64().unwrap()).await;

    let confirm = {
        let (http, base, buyer, key) = (http.clone(), base.clone(), buyer.clone(), key.clone());
        tokio::spawn(async move {
            call(
                &http,
                reqwest::Method::POST,
                format!("{base}/v1/payments/confirm"),
                &buyer,
                Some(json!({"orderKey": key, "paymentKey": "tgen_sigterm", "amount": amount})),
            )
            .await
        })
    };
    // Let the confirm reach the server and start waiting on the gateway.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exit = server.terminate().await;
    let (status, paid) = confirm.await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "the in-flight confirm completes: {paid}"
    );
    assert_eq!(paid["status"], "PAID");
    assert!(exit.success(), "exit status {exit:?}");

    // Same database, new process: the order is still there.
    let server = start(&envs).await;
    let (status, detail) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/v1/orders/{key}", server.url),
        &buyer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["status"], "PAID");
    assert!(server.terminate().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_keeps_orders_across_restarts() {
    let data_dir = PathBuf::from(format!("/tmp/commerce-embedded-{}", rand::random::<u64>()));
    let envs = [("DATA_DIR", data_dir.display().to_string())];
    let http = reqwest::Client::new();

    let server = start(&envs).await;
    let buyer = server
        .buyer_token
        .clone()
        .expect("a buyer token is printed");
    assert!(server.admin_token.is_some(), "an admin token is printed");
    let base = server.url.clone();
    let (status, products) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/products"),
        &buyer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{products}");
    let seeded = products["items"].as_array().unwrap().len();
    assert!(seeded > 0, "demo products are seeded");
    let product = products["items"][0]["id"].as_i64().unwrap();
    let (key, amount) = order_and_request_payment(&http, &base, &buyer, product).await;
    let (status, paid) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/payments/confirm"),
        &buyer,
        Some(json!({"orderKey": key, "paymentKey": "tgen_embedded", "amount": amount})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert!(server.terminate().await.success());
    assert!(
        !data_dir.join("postgres/postmaster.pid").exists(),
        "the embedded PostgreSQL is stopped with the server"
    );

    let server = start(&envs).await;
    let buyer = server.buyer_token.clone().unwrap();
    let (status, detail) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/v1/orders/{key}", server.url),
        &buyer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["status"], "PAID");
    let (_, products) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/v1/products", server.url),
        &buyer,
        None,
    )
    .await;
    assert_eq!(
        products["items"].as_array().unwrap().len(),
        seeded,
        "demo data is seeded once"
    );
    assert!(server.terminate().await.success());
    std::fs::remove_dir_all(&data_dir).unwrap();
}

#[tokio::test]
async fn without_postgresql_binaries_it_says_what_to_do() {
    let data_dir = format!("/tmp/commerce-nopg-{}", rand::random::<u64>());
    let output = commerce(&[
        ("DATA_DIR", data_dir.clone()),
        ("POSTGRES_BIN_DIR", "/nonexistent".to_owned()),
    ])
    .stderr(Stdio::piped())
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].contains("install PostgreSQL") && lines[0].contains("DATABASE_URL"),
        "{stderr}"
    );
    assert!(
        !std::path::Path::new(&data_dir).exists(),
        "nothing is created"
    );
}
