//! Prometheus metrics, hand-rolled: a handful of counters, one histogram family and a gauge
//! callback do not justify a metrics framework. Rendered in the text exposition format 0.0.4 at
//! `GET /metrics`.
//!
//! - `http_requests_total{method,route,status}`: every answered request, by route *pattern*
//!   (`/v1/orders/{orderKey}`, never the raw path, so label cardinality stays bounded;
//!   unmatched paths are `route="unmatched"`).
//! - `http_request_duration_seconds{method,route}`: latency histogram.
//! - `orders_placed_total`, `orders_paid_total`, `orders_canceled_total`, `orders_expired_total`,
//!   `payments_declined_total`: what this instance's API answered; background jobs add theirs
//!   through the [`Metrics`] handle.
//! - `db_pool_*`: read at scrape time from the callback the app installs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::HttpState;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Connection pool usage, as the app's pool reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// The most connections the pool will open.
    pub max_size: u64,
    /// Connections open now.
    pub size: u64,
    /// Open connections not in use.
    pub available: u64,
    /// Callers waiting for a connection.
    pub waiting: u64,
}

type PoolGauge = Box<dyn Fn() -> PoolUsage + Send + Sync>;

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
    count: u64,
    sum_micros: u64,
}

#[derive(Default)]
struct Inner {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    orders_placed: AtomicU64,
    orders_paid: AtomicU64,
    orders_canceled: AtomicU64,
    orders_expired: AtomicU64,
    payments_declined: AtomicU64,
    pool: RwLock<Option<PoolGauge>>,
}

/// The metrics registry. Cheap to clone; every clone counts into the same place.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn order_placed(&self) {
        self.inner.orders_placed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn order_paid(&self) {
        self.inner.orders_paid.fetch_add(1, Ordering::Relaxed);
    }

    pub fn order_canceled(&self) {
        self.inner.orders_canceled.fetch_add(1, Ordering::Relaxed);
    }

    /// For the expiry job: how many orders one run expired.
    pub fn orders_expired(&self, count: u64) {
        self.inner
            .orders_expired
            .fetch_add(count, Ordering::Relaxed);
    }

    pub fn payment_declined(&self) {
        self.inner.payments_declined.fetch_add(1, Ordering::Relaxed);
    }

    /// Installs the callback read at every scrape for the `db_pool_*` gauges.
    pub fn set_pool_usage(&self, gauge: impl Fn() -> PoolUsage + Send + Sync + 'static) {
        *self
            .inner
            .pool
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(gauge));
    }

    /// Counts one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        let mut latency = self
            .inner
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let histogram = latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        histogram.buckets[slot] += 1;
        histogram.count += 1;
        histogram.sum_micros = histogram
            .sum_micros
            .saturating_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_http(&mut out);
        let counters = [
            (
                "orders_placed_total",
                "Orders placed through the API.",
                &self.inner.orders_placed,
            ),
            (
                "orders_paid_total",
                "Orders answered as paid by a confirm, plus those the app reported.",
                &self.inner.orders_paid,
            ),
            (
                "orders_canceled_total",
                "Orders answered as canceled, plus those the app reported.",
                &self.inner.orders_canceled,
            ),
            (
                "orders_expired_total",
                "Unpaid orders expired by the background job.",
                &self.inner.orders_expired,
            ),
            (
                "payments_declined_total",
                "Confirms answered as declined by the gateway.",
                &self.inner.payments_declined,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let pool = self
            .inner
            .pool
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(gauge) = pool.as_ref() {
            let usage = gauge();
            for (name, help, value) in [
                (
                    "db_pool_max_size",
                    "The most connections the pool opens.",
                    usage.max_size,
                ),
                ("db_pool_size", "Open connections.", usage.size),
                (
                    "db_pool_available",
                    "Open connections not in use.",
                    usage.available,
                ),
                (
                    "db_pool_waiting",
                    "Callers waiting for a connection.",
                    usage.waiting,
                ),
            ] {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
                );
            }
        }
        out
    }

    fn render_http(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP http_requests_total Answered HTTP requests.\n# TYPE http_requests_total counter"
        );
        for ((method, route, status), count) in self
            .inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(method),
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP http_request_duration_seconds HTTP request latency.\n# TYPE http_request_duration_seconds histogram"
        );
        for ((method, route), h) in self
            .inner
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(h.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            #[allow(clippy::cast_precision_loss)]
            let sum = h.sum_micros as f64 / 1_000_000.0;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {sum}\nhttp_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts and times every request by route pattern.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<HttpState>>()
        .map(|state| state.metrics.clone());
    let method = req.method().to_string();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe_request(
            &method,
            &route,
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}

/// Prometheus scrape endpoint.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn scrape(state: web::Data<HttpState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(state.metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_the_pool() {
        let metrics = Metrics::default();
        metrics.order_placed();
        metrics.orders_expired(3);
        metrics.observe_request("GET", "/v1/orders", 200, Duration::from_millis(7));
        metrics.set_pool_usage(|| PoolUsage {
            max_size: 10,
            size: 4,
            available: 3,
            waiting: 0,
        });
        let text = metrics.render();
        assert!(text.contains("orders_placed_total 1"));
        assert!(text.contains("orders_expired_total 3"));
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/v1/orders\",status=\"200\"} 1"
            )
        );
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/orders\",le=\"0.005\"} 0"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/orders\",le=\"0.01\"} 1"
        ));
        assert!(text.contains("db_pool_size 4"));
    }
}
