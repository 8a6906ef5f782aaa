//! `place-order`: `POST /v1/orders` for a random product among many (10,000 by default) with
//! plenty of stock. Each answer 201 is one placed order (a CREATED order; no stock is taken
//! until a payment is confirmed).

use std::sync::Arc;

use rand::Rng as _;
use serde_json::json;

use super::{Outcome, Setup, measured, user};
use crate::api::Req;
use crate::cli::PlaceOrderArgs;
use crate::seed;

const STEPS: &[&str] = &["order"];
const STOCK: u32 = 1_000_000_000;

pub async fn run(setup: &Setup, args: &PlaceOrderArgs) -> anyhow::Result<Outcome> {
    let common = &setup.common;
    eprintln!(
        "loadgen: seeding {} products (concurrency {})",
        args.products, common.seed_concurrency
    );
    let seeding = std::time::Instant::now();
    let products = seed::products(
        &setup.api,
        setup.tokens.admin(),
        "place-order",
        args.products,
        STOCK,
        common.seed_concurrency,
    )
    .await?;
    eprintln!(
        "loadgen: seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let products = Arc::new(products);
    let tokens = Arc::new(
        (0..args.users)
            .map(|n| setup.tokens.buyer(user(setup, n)))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );
    let rng_seed = common.rng_seed;
    let vus = common.concurrency;
    let (recorder, elapsed) = measured(setup, STEPS, vus, |run, n| {
        let products = Arc::clone(&products);
        let tokens = Arc::clone(&tokens);
        async move {
            let mut rng = super::rng(rng_seed, n);
            let mut turn = n as usize;
            while run.budget.begin(1) {
                let token = &tokens[turn % tokens.len()];
                turn += vus as usize;
                let product = products[rng.random_range(0..products.len())];
                let quantity = rng.random_range(1..=3_u32);
                let body = json!({"productId": product, "quantity": quantity});
                let reply = run
                    .call("order", &[], token, Req::post("/v1/orders", Some(&body)))
                    .await;
                if reply.is_some_and(|r| r.is(201) && r.str("orderKey").is_some()) {
                    run.with_recorder(|r| r.count("orders placed", 1));
                }
            }
        }
    })
    .await?;
    let placed = recorder.counter("orders placed");
    Ok(Outcome {
        recorder,
        elapsed,
        headline: ("orders placed", placed),
        concurrency: vus,
        check: None,
    })
}
