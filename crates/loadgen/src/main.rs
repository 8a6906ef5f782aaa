//! `loadgen`: the load generator for the commerce order backend. See `loadgen --help` and
//! `docs/PERFORMANCE.md`. It talks to 127.0.0.1 only, and every run is bounded in time and in
//! requests.

mod api;
mod cli;
mod scenarios;
mod seed;
mod stats;
mod target;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;

use crate::api::{Api, Tokens};
use crate::cli::{Cli, Scenario};
use crate::scenarios::{Outcome, Setup};
use crate::stats::Class;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(cli.common.threads))
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => Err(anyhow::Error::new(e).context("starting the runtime")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Seeds, runs and reports one scenario; `Ok(passed)`.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let common = cli.common;
    let base = target::loopback_base_url(&common.base_url)?;
    let tokens = Tokens::new(common.jwt_secret.as_deref(), common.admin_token.clone())?;
    let pool = usize::try_from(common.concurrency.max(common.seed_concurrency))
        .unwrap_or(64)
        .max(64);
    let api = Api::new(
        base.clone(),
        Duration::from_secs(common.request_timeout),
        pool,
        common.idempotency_keys,
    )?;
    seed::ready(&api, Duration::from_secs(30))
        .await
        .with_context(|| format!("waiting for {base}/health/ready"))?;
    let user_base = common.user_base.unwrap_or_else(|| {
        use rand::Rng as _;
        rand::rng().random_range(1_000_000_000_000..3_000_000_000_000_000_i64)
    });
    let setup = Setup {
        api,
        tokens,
        common: common.clone(),
        user_base,
    };
    let name = cli.scenario.name();
    eprintln!("loadgen: {name} against {base}, buyers from user id {user_base}");
    let outcome = match &cli.scenario {
        Scenario::PlaceOrder(args) => scenarios::place_order::run(&setup, args).await?,
        Scenario::Purchase(args) => scenarios::purchase::run(&setup, args).await?,
        Scenario::HotProduct(args) => scenarios::hot_product::run(&setup, args).await?,
        Scenario::ReadMostly(args) => scenarios::read_mostly::run(&setup, args).await?,
    };
    report(name, &common, &outcome)
}

fn report(name: &str, common: &cli::Common, outcome: &Outcome) -> anyhow::Result<bool> {
    let Outcome {
        recorder,
        elapsed,
        headline,
        concurrency,
        check,
    } = outcome;
    let header = format!(
        "== {name}: concurrency {concurrency}, duration {} s (max {} requests)",
        common.duration, common.max_requests
    );
    print!("{}", recorder.report(&header, *elapsed, *headline));

    let failures = recorder.class_count(Class::Server) + recorder.class_count(Class::Transport);
    let unexpected = recorder.class_count(Class::Unexpected);
    let mut passed = true;
    let mut reasons = Vec::new();
    if failures > 0 && !common.allow_5xx {
        passed = false;
        reasons.push(format!("{failures} 5xx answers or transport errors"));
    }
    if unexpected > 0 && !common.allow_errors {
        passed = false;
        reasons.push(format!("{unexpected} unexpected answers or failed checks"));
    }
    if let Some((ok, explanation)) = check {
        println!(
            "\ncheck: {} — {explanation}",
            if *ok { "PASS" } else { "FAIL" }
        );
        if !ok {
            passed = false;
            reasons.push("the scenario's check failed".to_owned());
        }
    }
    if reasons.is_empty() {
        println!("\nresult: PASS");
    } else {
        println!("\nresult: FAIL ({})", reasons.join("; "));
    }
    if let Some(path) = &common.summary_json {
        let mut summary = recorder.summary(name, *concurrency, *elapsed, *headline);
        summary["passed"] = serde_json::json!(passed);
        if let Some((ok, explanation)) = check {
            summary["check"] = serde_json::json!({"passed": ok, "detail": explanation});
        }
        let text = serde_json::to_string_pretty(&summary)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(passed)
}
