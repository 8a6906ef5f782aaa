use std::sync::Arc;

use actix_web::test::{TestRequest, call_service, read_body};
use adapters_http::{Code, PoolUsage, Readiness};
use async_trait::async_trait;
use serde_json::Value;

use crate::app;
use crate::support::*;

/// Every endpoint of SPEC §3 (and the operational ones), by method and path.
const SPEC: &[(&str, &str)] = &[
    ("get", "/v1/products"),
    ("get", "/v1/products/{id}"),
    ("post", "/admin/v1/products"),
    ("patch", "/admin/v1/products/{id}"),
    ("post", "/admin/v1/coupons"),
    ("post", "/admin/v1/users/{userId}/points"),
    ("get", "/v1/cart"),
    ("post", "/v1/cart/items"),
    ("patch", "/v1/cart/items/{id}"),
    ("delete", "/v1/cart/items/{id}"),
    ("get", "/v1/coupons"),
    ("post", "/v1/coupons/{id}/download"),
    ("get", "/v1/owned-coupons"),
    ("get", "/v1/points"),
    ("post", "/v1/orders"),
    ("post", "/v1/cart-orders"),
    ("get", "/v1/orders/{orderKey}/checkout"),
    ("get", "/v1/orders"),
    ("get", "/v1/orders/{orderKey}"),
    ("post", "/v1/orders/{orderKey}/cancel"),
    ("post", "/v1/payments"),
    ("post", "/v1/payments/confirm"),
    ("post", "/v1/payments/fail"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

async fn openapi() -> Value {
    let app = app!(Mocks::new());
    let res = call_service(&app, TestRequest::get().uri("/openapi.json").to_request()).await;
    assert_eq!(res.status(), 200);
    json(res).await
}

#[actix_web::test]
async fn openapi_documents_every_spec_endpoint() {
    let doc = openapi().await;
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in SPEC {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        SPEC.len(),
        "undocumented extras or missing operations"
    );
    let mut operation_ids = std::collections::HashSet::new();
    for operation in paths.values().flat_map(|p| p.as_object().unwrap().values()) {
        let id = operation["operationId"].as_str().unwrap();
        assert!(operation_ids.insert(id), "operationId {id} twice");
    }
    assert_eq!(
        doc["components"]["schemas"]["OrderSummaryView"]["properties"]["createdAt"]["format"],
        "date-time"
    );
    assert!(doc["components"]["schemas"]["OrderStatus"]["enum"].is_array());

    let schemes = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["scheme"], "bearer");
    assert_eq!(schemes["bearerFormat"], "JWT");
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(
            problem["properties"].get(field).is_some(),
            "Problem.{field}"
        );
    }
    let place = &paths["/v1/orders"]["post"];
    assert!(place["requestBody"]["content"]["application/json"].is_object());
    assert!(
        place["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    );
    assert!(place["responses"]["404"]["content"]["application/problem+json"].is_object());
    assert_eq!(place["security"][0]["bearer"], serde_json::json!([]));
    let list = &paths["/v1/orders"]["get"]["parameters"];
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["status", "cursor", "limit"]);
    assert!(doc["components"]["schemas"]["OrderDetailView"]["properties"]["orderKey"].is_object());
}

/// Each documented operation is routed: it never answers the router's 404 or 405.
#[actix_web::test]
async fn every_documented_operation_is_routed() {
    let doc = openapi().await;
    let app = app!(Mocks::new());
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let uri = path
            .replace("{orderKey}", ORDER_KEY)
            .replace("{id}", "1")
            .replace("{userId}", "1");
        for method in operations.as_object().unwrap().keys() {
            let req = TestRequest::default()
                .method(method.to_uppercase().parse().unwrap())
                .uri(&uri)
                .to_request();
            let res = call_service(&app, req).await;
            assert_ne!(res.status(), 405, "{method} {path}");
            if res.status() == 404 {
                let body = json(res).await;
                assert_ne!(body["code"], Code::NotFound.as_str(), "{method} {path}");
            }
        }
    }
}

#[actix_web::test]
async fn health_endpoints() {
    struct Down;
    #[async_trait]
    impl Readiness for Down {
        async fn check(&self) -> anyhow::Result<()> {
            anyhow::bail!("database unreachable")
        }
    }
    let app = app!(Mocks::new());
    let res = call_service(&app, TestRequest::get().uri("/health/live").to_request()).await;
    assert_eq!(json(res).await["status"], "ok");
    let res = call_service(&app, TestRequest::get().uri("/health/ready").to_request()).await;
    assert_eq!(res.status(), 200);

    let mut m = Mocks::new();
    m.readiness = Arc::new(Down);
    let app = app!(m);
    let res = call_service(&app, TestRequest::get().uri("/health/ready").to_request()).await;
    let body = problem(res, 503, "SERVICE_UNAVAILABLE").await;
    assert!(
        !body["detail"]
            .as_str()
            .unwrap()
            .contains("database unreachable")
    );
}

#[actix_web::test]
async fn metrics_render_requests_by_route_pattern() {
    let mut m = Mocks::new();
    m.products.expect_find().returning(|_| Ok(None));
    let state = m.state();
    state.metrics().orders_expired(4);
    state.metrics().set_pool_usage(|| PoolUsage {
        max_size: 16,
        size: 3,
        available: 2,
        waiting: 0,
    });
    let app =
        actix_web::test::init_service(adapters_http::app(actix_web::web::Data::new(state))).await;
    for id in [1, 2] {
        let req = TestRequest::get()
            .uri(&format!("/v1/products/{id}"))
            .insert_header(bearer(BUYER))
            .to_request();
        call_service(&app, req).await;
    }
    call_service(&app, TestRequest::get().uri("/nowhere").to_request()).await;
    let res = call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(read_body(res).await.to_vec()).unwrap();
    assert!(
        text.contains(
            "http_requests_total{method=\"GET\",route=\"/v1/products/{id}\",status=\"404\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1")
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    assert!(text.contains(
        "http_request_duration_seconds_count{method=\"GET\",route=\"/v1/products/{id}\"} 2"
    ));
    for line in [
        "orders_placed_total 0",
        "orders_paid_total 0",
        "orders_canceled_total 0",
        "orders_expired_total 4",
        "payments_declined_total 0",
        "db_pool_max_size 16",
        "db_pool_available 2",
    ] {
        assert!(text.contains(line), "{line}");
    }
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = app!(Mocks::new());
    let res = call_service(
        &app,
        TestRequest::get()
            .uri("/health/live")
            .insert_header(("x-request-id", "client-abc.123"))
            .to_request(),
    )
    .await;
    assert_eq!(res.headers().get("x-request-id").unwrap(), "client-abc.123");

    for request in [
        TestRequest::get().uri("/health/live"),
        TestRequest::get()
            .uri("/v1/orders")
            .insert_header(("x-request-id", "bad id with spaces")),
        TestRequest::get().uri("/nowhere"),
    ] {
        let res = call_service(&app, request.to_request()).await;
        let id = res.headers().get("x-request-id").unwrap().to_str().unwrap();
        assert_eq!(id.len(), 26, "a ULID: {id}");
    }
}

#[actix_web::test]
async fn api_doc_lists_every_error_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))
        .expect("docs/API.md");
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("`{}`", code.as_str())),
            "{} missing from docs/API.md",
            code.as_str()
        );
    }
}

#[actix_web::test]
async fn serve_listens_on_the_given_listener_and_stops_gracefully() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = adapters_http::serve(listener, Mocks::new().state(), 1).unwrap();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);

    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-request-id:"));

    handle.stop(true).await;
    running.await.unwrap().unwrap();
}
