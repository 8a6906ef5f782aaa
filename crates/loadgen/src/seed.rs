//! Seeding through the API (admin endpoints for the catalog, coupons and points; buyer endpoints
//! for downloads and seed orders), concurrently, before the measured phase. Seed calls are not
//! recorded; a transient failure (5xx, no answer, a transient 409) is retried a few times, any
//! other failure stops the run.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use rand::Rng as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, Reply, Req};

const ATTEMPTS: u32 = 4;

/// One seed call, retried on transient failures; `Ok` only with a 2xx answer.
pub async fn call(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> anyhow::Result<Reply> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        let req = Req {
            method: method.clone(),
            path,
            query: &[],
            body,
        };
        match api.send(token, &req).await {
            Ok(reply) if reply.status.is_success() => return Ok(reply),
            Ok(reply)
                if reply.status.is_server_error()
                    || matches!(
                        reply.code(),
                        Some("IDEMPOTENCY_IN_PROGRESS" | "CONCURRENT_UPDATE")
                    ) =>
            {
                last = format!("{} {}", reply.key(), reply.body);
            }
            Ok(reply) => bail!("{method} {path}: {} {}", reply.key(), reply.body),
            Err(kind) => last = format!("no answer ({kind})"),
        }
    }
    bail!("{method} {path}: {last} (after {ATTEMPTS} attempts)")
}

/// Runs `count` seed jobs, `concurrency` at a time; the results in job order.
pub async fn many<T, F, Fut>(count: u32, concurrency: u32, job: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    futures::stream::iter(0..count)
        .map(job)
        .buffered(usize::try_from(concurrency).unwrap_or(1).max(1))
        .try_collect()
        .await
}

/// Creates `count` ACTIVE products with `stock` each and random prices; their ids.
pub async fn products(
    api: &Api,
    admin: &str,
    tag: &str,
    count: u32,
    stock: u32,
    concurrency: u32,
) -> anyhow::Result<Vec<i64>> {
    many(count, concurrency, |n| async move {
        let price = rand::rng().random_range(10..=600_i64) * 100;
        let selling = price - (price / 10) * rand::rng().random_range(0..=2_i64);
        let body = json!({
            "name": format!("{tag} 상품 {n}"),
            "price": price,
            "sellingPrice": selling,
            "stock": stock,
            "thumbnailUrl": format!("https://img.example/{tag}/{n}.png"),
            "shortDescription": "loadgen",
        });
        let reply = call(api, Method::POST, "/admin/v1/products", admin, Some(&body)).await?;
        reply.i64("id").context("a created product without an id")
    })
    .await
}

/// Creates a coupon valid for years, for every product, with no issue limit; its id.
pub async fn coupon(api: &Api, admin: &str, n: u32) -> anyhow::Result<i64> {
    let body = if n.is_multiple_of(2) {
        json!({"name": format!("loadgen {n}: 1,000원"), "kind": "FIXED", "amount": 1000,
               "validUntil": "2099-12-31T23:59:59Z"})
    } else {
        json!({"name": format!("loadgen {n}: 10%"), "kind": "RATE", "percent": 10,
               "maxDiscount": 3000, "validUntil": "2099-12-31T23:59:59Z"})
    };
    let reply = call(api, Method::POST, "/admin/v1/coupons", admin, Some(&body)).await?;
    reply.i64("id").context("a created coupon without an id")
}

/// Grants `amount` points to `user`.
pub async fn points(api: &Api, admin: &str, user: i64, amount: i64) -> anyhow::Result<()> {
    let body = json!({"amount": amount, "reason": "loadgen"});
    call(
        api,
        Method::POST,
        &format!("/admin/v1/users/{user}/points"),
        admin,
        Some(&body),
    )
    .await?;
    Ok(())
}

/// Downloads a coupon as a buyer.
pub async fn download(api: &Api, buyer: &str, coupon: i64) -> anyhow::Result<()> {
    call(
        api,
        Method::POST,
        &format!("/v1/coupons/{coupon}/download"),
        buyer,
        None,
    )
    .await?;
    Ok(())
}

/// Places an order as a buyer; its key.
pub async fn order(api: &Api, buyer: &str, product: i64, quantity: u32) -> anyhow::Result<String> {
    let body = json!({"productId": product, "quantity": quantity});
    let reply = call(api, Method::POST, "/v1/orders", buyer, Some(&body)).await?;
    reply
        .str("orderKey")
        .map(str::to_owned)
        .context("a placed order without an orderKey")
}

/// Waits until `GET /health/ready` answers 200 (at most `wait`).
pub async fn ready(api: &Api, wait: Duration) -> anyhow::Result<()> {
    let until = std::time::Instant::now() + wait;
    loop {
        match api.send("", &Req::get("/health/ready")).await {
            Ok(reply) if reply.status.is_success() => return Ok(()),
            Ok(reply) if std::time::Instant::now() >= until => {
                bail!("the server is not ready: {} {}", reply.key(), reply.body)
            }
            Err(kind) if std::time::Instant::now() >= until => {
                bail!("the server does not answer ({kind})")
            }
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
