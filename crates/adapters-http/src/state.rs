//! The state every handler shares, built once before the server starts and cloned into each
//! worker (it is all `Arc`s inside).

use std::sync::Arc;

use domain::ports::{Clock, IdempotencyStore};
use domain::usecases::{Ports, Services};

use crate::auth::JwtKeys;
use crate::health::Readiness;
use crate::metrics::Metrics;

/// What the HTTP layer needs: the use cases, the idempotency store and clock (the idempotency
/// layer talks to them directly), the JWT keys, the readiness probe and the metrics.
#[derive(Clone)]
pub struct HttpState {
    pub(crate) services: Services,
    pub(crate) idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jwt: JwtKeys,
    pub(crate) readiness: Arc<dyn Readiness>,
    pub(crate) metrics: Metrics,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState").finish_non_exhaustive()
    }
}

impl HttpState {
    /// The idempotency store and the clock are taken from `ports`; metrics start empty (get the
    /// shared handle with [`HttpState::metrics`]).
    pub fn new(
        ports: &Ports,
        services: Services,
        jwt: JwtKeys,
        readiness: Arc<dyn Readiness>,
    ) -> Self {
        Self {
            services,
            idempotency: ports.idempotency.clone(),
            clock: ports.clock.clone(),
            jwt,
            readiness,
            metrics: Metrics::default(),
        }
    }

    /// The metrics handle: clone it to bump counters from background jobs (e.g.
    /// [`Metrics::orders_expired`]) or to install the pool gauge ([`Metrics::set_pool_usage`]).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}
