//! Background jobs on the multi-threaded runtime: expiry, reconciliation, outbox relay and
//! idempotency purge. Each is safe to run on several instances at once (the queries skip rows
//! another instance holds), and each stops when the shutdown signal flips.

use std::future::Future;
use std::time::Duration;

use domain::usecases::Services;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often each job runs.
#[derive(Debug, Clone, Copy)]
pub struct JobIntervals {
    pub expire: Duration,
    pub reconcile: Duration,
    /// Payments pending longer than this are looked up at the gateway.
    pub reconcile_after: Duration,
    pub outbox: Duration,
    pub purge: Duration,
}

/// The running jobs and the switch that stops them.
#[derive(Debug)]
pub struct Jobs {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Spawns every job on the current (multi-threaded) runtime.
    pub fn start(
        services: &Services,
        intervals: JobIntervals,
        metrics: Option<&adapters_http::Metrics>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut handles = Vec::new();

        let maintenance = services.maintenance.clone();
        let expired_metrics = metrics.cloned();
        handles.push(every(
            intervals.expire,
            stopped.clone(),
            "expire",
            move || {
                let maintenance = maintenance.clone();
                let metrics = expired_metrics.clone();
                async move {
                    let expired = maintenance.expire_unpaid().await?;
                    if !expired.is_empty() {
                        tracing::info!(count = expired.len(), "expired unpaid orders");
                        if let Some(metrics) = &metrics {
                            metrics.orders_expired(expired.len() as u64);
                        }
                    }
                    Ok(())
                }
            },
        ));

        let payments = services.payments.clone();
        let stale_after = time::Duration::try_from(intervals.reconcile_after)
            .unwrap_or(time::Duration::seconds(30));
        handles.push(every(
            intervals.reconcile,
            stopped.clone(),
            "reconcile",
            move || {
                let payments = payments.clone();
                async move {
                    let report = payments.reconcile_pending(stale_after, 100).await?;
                    if report != domain::usecases::ReconcileReport::default() {
                        tracing::info!(?report, "reconciled pending payments");
                    }
                    Ok(())
                }
            },
        ));

        let maintenance = services.maintenance.clone();
        handles.push(every(
            intervals.outbox,
            stopped.clone(),
            "outbox",
            move || {
                let maintenance = maintenance.clone();
                async move {
                    maintenance.relay_outbox().await?;
                    Ok(())
                }
            },
        ));

        let maintenance = services.maintenance.clone();
        handles.push(every(
            intervals.purge,
            stopped,
            "idempotency-purge",
            move || {
                let maintenance = maintenance.clone();
                async move {
                    maintenance.purge_idempotency().await?;
                    Ok(())
                }
            },
        ));
        Self { stop, handles }
    }

    /// Stops every job and waits for the one in progress to finish its run.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            if let Err(error) = handle.await {
                tracing::error!(%error, "a background job panicked");
            }
        }
    }
}

/// Runs `run` every `interval` until `stopped` flips; a failed run is logged once and retried
/// at the next tick.
fn every<F, Fut>(
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
    name: &'static str,
    run: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stopped.changed() => break,
            }
            if *stopped.borrow() {
                break;
            }
            if let Err(error) = run().await {
                tracing::warn!(
                    job = name,
                    error = format!("{error:#}"),
                    "background job run failed"
                );
            }
        }
        tracing::debug!(job = name, "background job stopped");
    })
}
