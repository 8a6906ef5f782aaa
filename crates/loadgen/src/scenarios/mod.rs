//! The scenarios, and the measured phase they share: N virtual users looping until the budget
//! (duration, request count, a signal) is spent.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::api::{Api, Budget, Run, Tokens};
use crate::cli::Common;
use crate::stats::{Class, Recorder};

pub mod hot_product;
pub mod place_order;
pub mod purchase;
pub mod read_mostly;

/// What the seeding and the measured phase need.
#[derive(Debug)]
pub struct Setup {
    pub api: Api,
    pub tokens: Tokens,
    pub common: Common,
    /// The first buyer user id of this run.
    pub user_base: i64,
}

/// A finished scenario.
#[derive(Debug)]
pub struct Outcome {
    pub recorder: Recorder,
    pub elapsed: Duration,
    /// What counts as one completed unit of work, and how many were completed.
    pub headline: (&'static str, u64),
    pub concurrency: u32,
    /// A scenario's own check: `Some((passed, explanation))`.
    pub check: Option<(bool, String)>,
}

/// Runs `workers` virtual users until the budget is spent; returns what they recorded and the
/// elapsed time of the phase.
pub async fn measured<F, Fut>(
    setup: &Setup,
    steps: &[&'static str],
    workers: u32,
    worker: F,
) -> anyhow::Result<(Recorder, Duration)>
where
    F: Fn(Arc<Run>, u32) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let run = Arc::new(Run {
        api: setup.api.clone(),
        budget: Budget::new(
            Duration::from_secs(setup.common.duration),
            setup.common.max_requests,
        ),
        recorder: Mutex::new(Recorder::new(steps)?),
    });
    let signals = tokio::spawn(stop_on_signal(Arc::clone(&run)));
    let progress = (!setup.common.quiet).then(|| tokio::spawn(progress(Arc::clone(&run))));
    eprintln!(
        "loadgen: measuring: {workers} virtual users for at most {} s and {} requests",
        setup.common.duration, setup.common.max_requests
    );
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..workers {
        tasks.spawn(worker(Arc::clone(&run), n));
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            // A panicking worker is a bug in the load generator: say so, keep the others.
            eprintln!("loadgen: a virtual user stopped: {e}");
            run.with_recorder(|r| r.check_failed("virtual user crashed"));
        }
    }
    let elapsed = started.elapsed();
    // Aborted tasks drop their handle on the run only once they are awaited.
    signals.abort();
    let _ = signals.await;
    if let Some(progress) = progress {
        progress.abort();
        let _ = progress.await;
    }
    let run =
        Arc::try_unwrap(run).map_err(|_| anyhow::anyhow!("a virtual user outlived the run"))?;
    let recorder = run
        .recorder
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((recorder, elapsed))
}

async fn stop_on_signal(run: Arc<Run>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("loadgen: stopping (signal); the report follows");
    run.budget.stop();
}

async fn progress(run: Arc<Run>) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    let mut last = 0;
    loop {
        tick.tick().await;
        let (requests, bad) = run.with_recorder(|r| {
            (
                r.requests(),
                r.class_count(Class::Server)
                    + r.class_count(Class::Transport)
                    + r.class_count(Class::Unexpected),
            )
        });
        eprintln!(
            "[{:>4.0}s] {requests} requests ({:.0}/s over the last 5 s), {bad} errors",
            started.elapsed().as_secs_f64(),
            f64::from(u32::try_from(requests - last).unwrap_or(u32::MAX)) / 5.0
        );
        last = requests;
    }
}

/// The random source of virtual user `n`: reproducible with `--rng-seed`.
pub fn rng(seed: Option<u64>, n: u32) -> StdRng {
    match seed {
        Some(seed) => StdRng::seed_from_u64(seed.wrapping_add(u64::from(n))),
        None => StdRng::from_rng(&mut rand::rng()),
    }
}

/// Buyer `n` of this run.
pub fn user(setup: &Setup, n: u32) -> i64 {
    setup.user_base + i64::from(n)
}

/// A shipping address for payment requests.
pub fn address() -> serde_json::Value {
    serde_json::json!({
        "recipient": "홍길동",
        "phone": "010-1234-5678",
        "zipCode": "06236",
        "address1": "서울 강남구 테헤란로 1",
        "address2": "101호",
    })
}
