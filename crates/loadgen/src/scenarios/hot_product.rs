//! `hot-product`: many buyers race for one product with little stock. Each buyer places an
//! order for one unit, requests its payment and confirms it, again and again, until a confirm
//! answers `409 OUT_OF_STOCK` (or the budget ends). Afterwards, through the API only: the paid
//! orders of all buyers must equal initial stock − final stock, the final stock must be ≥ 0, and
//! the paid orders must be exactly the confirms that answered 200.

use std::sync::Arc;

use anyhow::Context as _;
use reqwest::Method;
use serde_json::json;

use super::{Outcome, Setup, address, measured, user};
use crate::api::{Api, Req};
use crate::cli::HotProductArgs;
use crate::seed;

const STEPS: &[&str] = &["order", "payment", "confirm"];
const REQUESTS: u64 = 3;

pub async fn run(setup: &Setup, args: &HotProductArgs) -> anyhow::Result<Outcome> {
    let admin = setup.tokens.admin();
    let product = seed::products(&setup.api, admin, "hot", 1, args.stock, 1)
        .await?
        .first()
        .copied()
        .context("no product was seeded")?;
    let initial = product_stock(&setup.api, admin, product).await?;
    eprintln!(
        "loadgen: {} buyers race for product {product} with stock {initial}",
        args.buyers
    );
    let tokens = Arc::new(
        (0..args.buyers)
            .map(|n| setup.tokens.buyer(user(setup, n)))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    let workers_tokens = Arc::clone(&tokens);
    let (recorder, elapsed) = measured(setup, STEPS, args.buyers, |run, n| {
        let tokens = Arc::clone(&workers_tokens);
        async move {
            let Some(token) = tokens.get(n as usize) else {
                return;
            };
            while run.budget.begin(REQUESTS) {
                let body = json!({"productId": product, "quantity": 1});
                let Some(order) = run
                    .call("order", &[], token, Req::post("/v1/orders", Some(&body)))
                    .await
                else {
                    continue;
                };
                let Some(key) = order.str("orderKey").filter(|_| order.is(201)) else {
                    continue;
                };
                let body = json!({"orderKey": key, "shippingAddress": address()});
                let Some(payment) = run
                    .call("payment", &[], token, Req::post("/v1/payments", Some(&body)))
                    .await
                else {
                    continue;
                };
                let Some(amount) = payment.i64("amount").filter(|_| payment.is(201)) else {
                    continue;
                };
                let body = json!({"orderKey": key, "paymentKey": format!("lg-hot-{key}"), "amount": amount});
                let Some(confirm) = run
                    .call("confirm", &["OUT_OF_STOCK"], token, Req::post("/v1/payments/confirm", Some(&body)))
                    .await
                else {
                    continue;
                };
                match (confirm.status.as_u16(), confirm.code()) {
                    (200, _) if confirm.str("status") == Some("PAID") => {
                        run.with_recorder(|r| r.count("paid (200)", 1));
                    }
                    (409, Some("OUT_OF_STOCK")) => {
                        run.with_recorder(|r| r.count("sold out (409 OUT_OF_STOCK)", 1));
                        break;
                    }
                    (202, _) => run.with_recorder(|r| r.count("pending (202)", 1)),
                    _ => {}
                }
            }
        }
    })
    .await?;

    // The check, through the API.
    let final_stock = product_stock(&setup.api, admin, product).await?;
    let mut paid_listed = 0_u64;
    for token in tokens.iter() {
        paid_listed += count_orders(&setup.api, token, "PAID").await?;
    }
    let paid_seen = recorder.counter("paid (200)");
    let pending = recorder.counter("pending (202)");
    let sold = initial - final_stock;
    let passed = final_stock >= 0
        && i64::try_from(paid_listed).is_ok_and(|p| p == sold)
        && pending == 0
        && paid_seen == paid_listed;
    let explanation = format!(
        "initial stock {initial}, final stock {final_stock}, sold {sold}; paid orders listed {paid_listed}, \
         confirms answered 200 {paid_seen}, pending {pending}{}",
        if final_stock == 0 {
            " (sold out)"
        } else {
            " (budget ended before the stock ran out)"
        }
    );
    Ok(Outcome {
        recorder,
        elapsed,
        headline: ("paid orders", paid_seen),
        concurrency: args.buyers,
        check: Some((passed, explanation)),
    })
}

async fn product_stock(api: &Api, token: &str, product: i64) -> anyhow::Result<i64> {
    let reply = seed::call(
        api,
        Method::GET,
        &format!("/v1/products/{product}"),
        token,
        None,
    )
    .await?;
    reply.i64("stock").context("a product without stock")
}

/// The number of a buyer's orders with `status`, walking every page.
pub async fn count_orders(api: &Api, token: &str, status: &str) -> anyhow::Result<u64> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    for _ in 0..100_000 {
        let mut query = vec![("status", status), ("limit", "100")];
        if let Some(cursor) = cursor.as_deref() {
            query.push(("cursor", cursor));
        }
        let reply = api
            .send(token, &Req::get("/v1/orders").query(&query))
            .await
            .map_err(|kind| anyhow::anyhow!("listing orders: no answer ({kind})"))?;
        anyhow::ensure!(
            reply.is(200),
            "listing orders: {} {}",
            reply.key(),
            reply.body
        );
        let items = reply
            .body
            .get("items")
            .and_then(serde_json::Value::as_array)
            .context("an order page without items")?;
        count += items.len() as u64;
        match reply.str("nextCursor") {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(count),
        }
    }
    anyhow::bail!("listing orders: more than 100,000 pages")
}
