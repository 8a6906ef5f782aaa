//! `read-mostly`: a few users with many orders each (200 by default, seeded through
//! `POST /v1/orders`); each virtual user picks one of them, walks their whole order list
//! (`GET /v1/orders?status=ALL`, following `nextCursor`) and reads a few orders' detail. A walk
//! that does not list exactly the seeded orders counts as a failed check.

use std::sync::Arc;

use anyhow::Context as _;
use rand::Rng as _;
use serde_json::Value;

use super::{Outcome, Setup, measured, user};
use crate::api::Req;
use crate::cli::ReadMostlyArgs;
use crate::seed;

const STEPS: &[&str] = &["list page", "detail"];

pub async fn run(setup: &Setup, args: &ReadMostlyArgs) -> anyhow::Result<Outcome> {
    let common = &setup.common;
    let admin = setup.tokens.admin();
    let orders = args
        .users
        .checked_mul(args.orders_per_user)
        .context("--users × --orders-per-user is too large")?;
    eprintln!(
        "loadgen: seeding {orders} orders ({} users × {})",
        args.users, args.orders_per_user
    );
    let products = seed::products(
        &setup.api,
        admin,
        "read",
        20,
        1_000_000,
        common.seed_concurrency,
    )
    .await?;
    let tokens = Arc::new(
        (0..args.users)
            .map(|n| setup.tokens.buyer(user(setup, n)))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    seed::many(orders, common.seed_concurrency, |n| {
        let token = &tokens[(n % args.users) as usize];
        let product = products[(n as usize) % products.len()];
        seed::order(&setup.api, token, product, 1 + n % 3)
    })
    .await?;

    let page_size = args.page_size.to_string();
    let pages_per_walk = u64::from(args.orders_per_user) / u64::from(args.page_size) + 1;
    let per_walk = pages_per_walk + u64::from(args.details);
    let expected_orders = u64::from(args.orders_per_user);
    let details = args.details;
    let rng_seed = common.rng_seed;
    let workers_tokens = Arc::clone(&tokens);
    let (recorder, elapsed) = measured(setup, STEPS, common.concurrency, |run, n| {
        let tokens = Arc::clone(&workers_tokens);
        let page_size = page_size.clone();
        async move {
            let mut rng = super::rng(rng_seed, n);
            'walks: while run.budget.begin(per_walk) {
                let token = &tokens[rng.random_range(0..tokens.len())];
                let mut keys: Vec<String> = Vec::new();
                let mut cursor: Option<String> = None;
                let mut pages = 0_u64;
                loop {
                    let mut query = vec![("status", "ALL"), ("limit", page_size.as_str())];
                    if let Some(cursor) = cursor.as_deref() {
                        query.push(("cursor", cursor));
                    }
                    let Some(page) = run
                        .call(
                            "list page",
                            &[],
                            token,
                            Req::get("/v1/orders").query(&query),
                        )
                        .await
                        .filter(|r| r.is(200))
                    else {
                        continue 'walks;
                    };
                    run.with_recorder(|r| r.count("list pages read", 1));
                    let items = page.body.get("items").and_then(Value::as_array);
                    keys.extend(
                        items
                            .into_iter()
                            .flatten()
                            .filter_map(|item| item.get("orderKey").and_then(Value::as_str))
                            .map(str::to_owned),
                    );
                    match page.str("nextCursor") {
                        Some(next) => cursor = Some(next.to_owned()),
                        None => break,
                    }
                    pages += 1;
                    if pages > 2 * pages_per_walk + 10 {
                        // A cursor that never ends: stop the walk, the check below fails it.
                        break;
                    }
                }
                if keys.len() as u64 == expected_orders {
                    run.with_recorder(|r| r.count("full list walks", 1));
                } else {
                    run.with_recorder(|r| {
                        r.check_failed("a list walk did not list exactly the seeded orders");
                    });
                }
                for _ in 0..details {
                    if keys.is_empty() {
                        break;
                    }
                    let key = &keys[rng.random_range(0..keys.len())];
                    let detail = run
                        .call("detail", &[], token, Req::get(&format!("/v1/orders/{key}")))
                        .await;
                    if detail.is_some_and(|d| d.is(200) && d.str("orderKey") == Some(key.as_str()))
                    {
                        run.with_recorder(|r| r.count("details read", 1));
                    }
                }
            }
        }
    })
    .await?;
    let reads = recorder.counter("list pages read") + recorder.counter("details read");
    Ok(Outcome {
        recorder,
        elapsed,
        headline: ("reads (pages + details)", reads),
        concurrency: common.concurrency,
        check: None,
    })
}
