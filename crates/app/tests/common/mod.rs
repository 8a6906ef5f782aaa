//! Starting the real application on port 0 against a fresh database, and talking HTTP to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use adapters_toss::SimulatedGateway;
use app::config::{Config, LogFormat, Secret};
use app::{Application, Overrides};
use domain::model::UserId;
use domain::ports::Clock;
use domain::usecases::{Ports, Services};
use local_postgres::{TestDatabase, TestDatabases};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A fresh, migrated database of the per-process test cluster.
pub async fn fresh_database() -> TestDatabase {
    let databases = TestDatabases::get(|url| async move {
        adapters_postgres::run_migrations(&url).await?;
        Ok(())
    })
    .await
    .expect("test databases");
    databases.fresh().await.expect("fresh database")
}

/// A config for tests: the given database, port 0, the simulated gateway, no embedded server.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: Some(Secret::new(database_url)),
        bind_addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: PathBuf::from("/nonexistent"),
        postgres_bin_dir: None,
        jwt_secret: Some(Secret::new(JWT_SECRET)),
        gateway: adapters_toss::GatewayConfig::default(),
        order_ttl: Duration::from_secs(1800),
        expire_interval: Duration::from_secs(3600),
        reconcile_interval: Duration::from_secs(3600),
        reconcile_after: Duration::from_secs(30),
        db_pool_size: 10,
        log_format: LogFormat::Pretty,
        http_workers: 2,
    }
}

/// A clock tests can move forward.
#[derive(Debug)]
pub struct TestClock {
    offset: Mutex<time::Duration>,
}

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            offset: Mutex::new(time::Duration::ZERO),
        })
    }

    pub fn advance(&self, by: time::Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.lock().unwrap()
    }
}

/// The running application and what tests need to drive it.
pub struct TestApp {
    pub address: SocketAddr,
    pub handle: ServerHandle,
    pub services: Services,
    pub ports: Ports,
    pub gateway: Arc<SimulatedGateway>,
    pub clock: Arc<TestClock>,
    pub admin: String,
    pub http: reqwest::Client,
    pub database: TestDatabase,
    jwt_app_tokens: Arc<dyn Fn(i64) -> String + Send + Sync>,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// Starts the app on a fresh database, without background jobs (tests run them explicitly).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let database = fresh_database().await;
        let mut config = test_config(database.url());
        adjust(&mut config);
        let gateway = Arc::new(SimulatedGateway::new());
        let clock = TestClock::new();
        let overrides = Overrides {
            gateway: Some(gateway.clone()),
            clock: Some(clock.clone()),
            without_jobs: true,
        };
        let application = Application::build_with(config, overrides)
            .await
            .expect("application starts");
        let address = application.address();
        let handle = application.handle();
        let services = application.services().clone();
        let ports = application.ports().clone();
        let admin = application.token(UserId::new(9000), true).unwrap();
        let keys = adapters_http::JwtKeys::new(JWT_SECRET.as_bytes());
        let jwt_app_tokens: Arc<dyn Fn(i64) -> String + Send + Sync> = Arc::new(move |user| {
            keys.issue_token(UserId::new(user), false, time::Duration::hours(1))
                .unwrap()
        });
        let running = tokio::spawn(application.run_until_stopped());
        TestApp {
            address,
            handle,
            services,
            ports,
            gateway,
            clock,
            admin,
            http: reqwest::Client::new(),
            database,
            jwt_app_tokens,
            running,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn buyer(&self, user: i64) -> String {
        (self.jwt_app_tokens)(user)
    }

    /// Sends a request with a bearer token and an optional JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Creates a product as admin; returns its id.
    pub async fn product(&self, name: &str, price: i64, stock: i64) -> i64 {
        let (status, body) = self
            .post(
                "/admin/v1/products",
                &self.admin,
                json!({"name": name, "price": price, "stock": stock}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn grant_points(&self, user: i64, amount: i64) {
        let (status, body) = self
            .post(
                &format!("/admin/v1/users/{user}/points"),
                &self.admin,
                json!({"amount": amount, "reason": "test"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Creates a FIXED coupon and has `user` download it; returns the owned coupon id.
    pub async fn owned_coupon(&self, user: i64, amount: i64) -> i64 {
        let valid_until = (OffsetDateTime::now_utc() + time::Duration::days(7))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let (status, coupon) = self
            .post(
                "/admin/v1/coupons",
                &self.admin,
                json!({"name": "test coupon", "kind": "FIXED", "amount": amount, "validUntil": valid_until}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{coupon}");
        let (status, owned) = self
            .post(
                &format!("/v1/coupons/{}/download", coupon["id"]),
                &self.buyer(user),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{owned}");
        owned["id"].as_i64().unwrap()
    }

    /// Places a one-product order; returns its key.
    pub async fn order(&self, user: i64, product: i64, quantity: i64) -> String {
        let (status, body) = self
            .post(
                "/v1/orders",
                &self.buyer(user),
                json!({"productId": product, "quantity": quantity}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["orderKey"].as_str().unwrap().to_owned()
    }

    /// Requests payment; returns the amount to charge.
    pub async fn request_payment(
        &self,
        user: i64,
        order_key: &str,
        coupon: Option<i64>,
        points: i64,
    ) -> i64 {
        let (status, body) = self
            .post(
                "/v1/payments",
                &self.buyer(user),
                json!({
                    "orderKey": order_key,
                    "ownedCouponId": coupon,
                    "usePoint": points,
                    "shippingAddress": {"recipient": "홍길동", "phone": "010-1234-5678", "zipCode": "06236", "address1": "서울 강남구 테헤란로 1"}
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["amount"].as_i64().unwrap()
    }

    pub async fn confirm(
        &self,
        user: i64,
        order_key: &str,
        payment_key: &str,
        amount: i64,
    ) -> (StatusCode, Value) {
        self.post(
            "/v1/payments/confirm",
            &self.buyer(user),
            json!({"orderKey": order_key, "paymentKey": payment_key, "amount": amount}),
        )
        .await
    }

    pub async fn order_detail(&self, user: i64, order_key: &str) -> Value {
        let (status, body) = self
            .get(&format!("/v1/orders/{order_key}"), &self.buyer(user))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn stock(&self, product: i64) -> i64 {
        let (status, body) = self
            .get(&format!("/v1/products/{product}"), &self.admin)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["stock"]
            .as_i64()
            .or_else(|| body["items"][0]["stock"].as_i64())
            .unwrap()
    }

    pub async fn points(&self, user: i64) -> i64 {
        let (status, body) = self.get("/v1/points", &self.buyer(user)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["balance"].as_i64().unwrap()
    }

    pub async fn owned_coupon_status(&self, user: i64, owned: i64) -> String {
        let (_, body) = self.get("/v1/owned-coupons", &self.buyer(user)).await;
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == owned)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Stops the server gracefully and waits for the application to finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.running.await.unwrap().unwrap();
    }
}
