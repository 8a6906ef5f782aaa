//! `purchase`: the whole story per virtual user, as a shop front end would run it:
//! place an order → open its checkout → request the payment (a coupon for some, points for
//! some) → confirm it on the simulated gateway with the amount the payment request answered →
//! read the order detail. A purchase is completed when the confirm answers 200 with a PAID order.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use rand::Rng as _;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::{Outcome, Setup, address, measured, user};
use crate::api::{Req, Run};
use crate::cli::PurchaseArgs;
use crate::seed;

const STEPS: &[&str] = &[
    "order", "checkout", "payment", "confirm", "detail", "purchase",
];
/// Requests per story.
const REQUESTS: u64 = 5;
/// Points granted to every buyer while seeding: far more than any run spends.
const GRANT: i64 = 100_000_000;
/// Stock of every seeded product: far more than any run sells.
const STOCK: u32 = 100_000_000;

#[derive(Debug)]
struct Buyer {
    token: String,
    /// Cleared when a checkout offers no usable coupon any more.
    has_coupons: bool,
}

pub async fn run(setup: &Setup, args: &PurchaseArgs) -> anyhow::Result<Outcome> {
    let common = &setup.common;
    let vus = common.concurrency;
    let buyers = vus
        .checked_mul(args.users_per_vu)
        .context("--concurrency × --users-per-vu is too large")?;
    let admin = setup.tokens.admin();
    eprintln!(
        "loadgen: seeding {} products, {} coupons, {buyers} buyers with {GRANT} points each",
        args.products, args.coupons
    );
    let products = Arc::new(
        seed::products(
            &setup.api,
            admin,
            "purchase",
            args.products,
            STOCK,
            common.seed_concurrency,
        )
        .await?,
    );
    let coupons = seed::many(args.coupons, common.seed_concurrency, |n| {
        seed::coupon(&setup.api, admin, n)
    })
    .await?;
    let tokens = (0..buyers)
        .map(|n| setup.tokens.buyer(user(setup, n)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    seed::many(buyers, common.seed_concurrency, |n| {
        seed::points(&setup.api, admin, user(setup, n), GRANT)
    })
    .await?;
    let downloads = buyers * args.coupons;
    seed::many(downloads, common.seed_concurrency, |n| {
        let token = &tokens[(n / args.coupons.max(1)) as usize];
        let coupon = coupons[(n % args.coupons.max(1)) as usize];
        seed::download(&setup.api, token, coupon)
    })
    .await?;

    let per_vu = args.users_per_vu as usize;
    let args = Arc::new(args.clone());
    let tokens = Arc::new(tokens);
    let rng_seed = common.rng_seed;
    let (recorder, elapsed) = measured(setup, STEPS, vus, |run, n| {
        let products = Arc::clone(&products);
        let args = Arc::clone(&args);
        let tokens = Arc::clone(&tokens);
        async move {
            let first = n as usize * per_vu;
            let mut buyers: Vec<Buyer> = tokens
                .iter()
                .skip(first)
                .take(per_vu)
                .map(|token| Buyer {
                    token: token.clone(),
                    has_coupons: true,
                })
                .collect();
            let mut rng = super::rng(rng_seed, n);
            let mut turn = 0_usize;
            while run.budget.begin(REQUESTS) {
                let Some(buyer) = buyers.get_mut(turn % per_vu) else {
                    break;
                };
                turn += 1;
                story(&run, buyer, &products, &args, &mut rng).await;
            }
        }
    })
    .await?;
    let completed = recorder.counter("purchases");
    Ok(Outcome {
        recorder,
        elapsed,
        headline: ("completed purchases", completed),
        concurrency: vus,
        check: None,
    })
}

/// One purchase; records what happened. Stops at the first step that did not succeed.
async fn story(
    run: &Run,
    buyer: &mut Buyer,
    products: &[i64],
    args: &PurchaseArgs,
    rng: &mut StdRng,
) {
    let started = Instant::now();
    let token = buyer.token.as_str();
    let product = products[rng.random_range(0..products.len())];
    let quantity = rng.random_range(1..=3_u32);

    // 1. 상품 주문
    let body = json!({"productId": product, "quantity": quantity});
    let Some(reply) = run
        .call("order", &[], token, Req::post("/v1/orders", Some(&body)))
        .await
    else {
        return abandon(run);
    };
    let Some(key) = reply
        .str("orderKey")
        .filter(|_| reply.is(201))
        .map(str::to_owned)
    else {
        return abandon(run);
    };

    // 2. 결제 전 주문 화면
    let Some(checkout) = run
        .call(
            "checkout",
            &[],
            token,
            Req::get(&format!("/v1/orders/{key}/checkout")),
        )
        .await
        .filter(|r| r.is(200))
    else {
        return abandon(run);
    };
    let mut discount = 0;
    let mut owned_coupon = Value::Null;
    if buyer.has_coupons && rng.random_range(0..100) < args.coupon_percent {
        match checkout.body.get("usableCoupons").and_then(|c| c.get(0)) {
            Some(usable) => {
                owned_coupon = usable.get("ownedCouponId").cloned().unwrap_or(Value::Null);
                discount = usable.get("discount").and_then(Value::as_i64).unwrap_or(0);
            }
            None => buyer.has_coupons = false,
        }
    }
    let items_total = checkout.i64("itemsTotal").unwrap_or(0);
    let use_point = if rng.random_range(0..100) < args.points_percent {
        args.use_point.min(items_total - discount).max(0)
    } else {
        0
    };

    // 3. 결제 요청
    let mut body = json!({"orderKey": key, "shippingAddress": address()});
    if !owned_coupon.is_null() {
        body["ownedCouponId"] = owned_coupon;
    }
    if use_point > 0 {
        body["usePoint"] = json!(use_point);
    }
    let Some(payment) = run
        .call(
            "payment",
            &[],
            token,
            Req::post("/v1/payments", Some(&body)),
        )
        .await
        .filter(|r| r.is(201))
    else {
        return abandon(run);
    };
    let Some(amount) = payment.i64("amount") else {
        run.with_recorder(|r| r.check_failed("a payment answer without an amount"));
        return abandon(run);
    };
    let with_coupon = payment.i64("couponDiscount").unwrap_or(0) > 0;
    let with_points = payment.i64("usedPoint").unwrap_or(0) > 0;

    // 4. PG 결제 승인 (the simulated gateway decides by the key's prefix)
    let roll = rng.random_range(0..100_u16);
    let decline = roll < u16::from(args.decline_percent);
    let unknown =
        !decline && roll < u16::from(args.decline_percent) + u16::from(args.unknown_percent);
    let prefix = if decline {
        "decline-"
    } else if unknown {
        "timeout-"
    } else {
        ""
    };
    let body =
        json!({"orderKey": key, "paymentKey": format!("{prefix}lg-{key}"), "amount": amount});
    let expected: &[&str] = if decline { &["PAYMENT_DECLINED"] } else { &[] };
    let Some(confirm) = run
        .call(
            "confirm",
            expected,
            token,
            Req::post("/v1/payments/confirm", Some(&body)),
        )
        .await
    else {
        return abandon(run);
    };
    let paid = confirm.is(200) && confirm.str("status") == Some("PAID");
    match confirm.status.as_u16() {
        200 if paid => {}
        200 => run.with_recorder(|r| r.check_failed("a 200 confirm whose order is not PAID")),
        202 => run.with_recorder(|r| r.count("pending (202)", 1)),
        402 => run.with_recorder(|r| r.count("declined (402)", 1)),
        _ => return abandon(run),
    }

    // 5. 주문 상세
    let Some(detail) = run
        .call("detail", &[], token, Req::get(&format!("/v1/orders/{key}")))
        .await
        .filter(|r| r.is(200))
    else {
        return abandon(run);
    };
    if paid {
        if detail.str("status") != Some("PAID") || detail.i64("paidAmount") != Some(amount) {
            run.with_recorder(|r| {
                r.check_failed("the detail of a paid order is not PAID with the amount");
            });
            return;
        }
        let elapsed = started.elapsed();
        run.with_recorder(|r| {
            r.latency("purchase", elapsed);
            r.count("purchases", 1);
            r.count("with coupon", u64::from(with_coupon));
            r.count("with points", u64::from(with_points));
        });
    }
}

fn abandon(run: &Run) {
    run.with_recorder(|r| r.count("abandoned (a step failed)", 1));
}
