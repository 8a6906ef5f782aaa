//! Building and running the whole application: database, migrations, adapters, use cases,
//! HTTP server and background jobs. `Application::build` binds the listener (port 0 in tests)
//! so tests can start the real thing and talk HTTP to it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use adapters_http::{HttpState, JwtKeys, PoolUsage, Readiness};
use adapters_postgres::{Database, DatabaseConfig, PgStore, run_migrations};
use anyhow::Context;
use async_trait::async_trait;
use domain::model::UserId;
use domain::ports::{Clock, PaymentGateway, SystemClock};
use domain::usecases::{Policies, Ports, Services};

use crate::config::{Config, Secret};
use crate::embedded::{self, EmbeddedPostgres};
use crate::jobs::{JobIntervals, Jobs};
use crate::publisher::LogPublisher;
use crate::seed::{DEMO_ADMIN, DEMO_BUYER, seed_demo};

/// Replacements for tests: a gateway with fault hooks, a controllable clock, no jobs.
#[derive(Clone, Default)]
pub struct Overrides {
    pub gateway: Option<Arc<dyn PaymentGateway>>,
    pub clock: Option<Arc<dyn Clock>>,
    /// Run the background jobs (default true).
    pub without_jobs: bool,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("without_jobs", &self.without_jobs)
            .finish_non_exhaustive()
    }
}

/// Where the data lives: a URL, and the embedded server when we started one.
#[derive(Debug)]
pub struct DatabaseTarget {
    pub url: Secret,
    pub jwt_secret: Secret,
    pub embedded: Option<EmbeddedPostgres>,
}

/// Resolves the database: `DATABASE_URL`, or the embedded PostgreSQL in `DATA_DIR`.
pub async fn resolve_database(config: &Config) -> anyhow::Result<DatabaseTarget> {
    if let Some(url) = &config.database_url {
        let jwt_secret = config
            .jwt_secret
            .clone()
            .context("JWT_SECRET is required with DATABASE_URL")?;
        return Ok(DatabaseTarget {
            url: url.clone(),
            jwt_secret,
            embedded: None,
        });
    }
    let data_dir = config.data_dir.clone();
    let bin_dir = config.postgres_bin_dir.clone();
    let embedded =
        tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir, bin_dir.as_deref()))
            .await??;
    let jwt_secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => embedded::jwt_secret(&config.data_dir)?,
    };
    Ok(DatabaseTarget {
        url: Secret::new(embedded.url()),
        jwt_secret,
        embedded: Some(embedded),
    })
}

/// Stops an embedded server, if any, off the async threads.
pub async fn stop_embedded(embedded: Option<EmbeddedPostgres>) {
    if let Some(embedded) = embedded {
        match tokio::task::spawn_blocking(move || embedded.stop()).await {
            Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
            Ok(Err(error)) => tracing::error!(
                error = format!("{error:#}"),
                "stopping the embedded PostgreSQL failed"
            ),
            Err(error) => tracing::error!(%error, "stopping the embedded PostgreSQL panicked"),
        }
    }
}

/// Every port: the PostgreSQL store, the given gateway and clock, and the log publisher.
pub fn wire_ports(
    database: &Database,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
) -> Ports {
    let repositories = PgStore::new(database.clone()).repositories();
    Ports {
        products: repositories.products,
        carts: repositories.carts,
        orders: repositories.orders,
        payments: repositories.payments,
        coupons: repositories.coupons,
        points: repositories.points,
        idempotency: repositories.idempotency,
        outbox: repositories.outbox,
        publisher: Arc::new(LogPublisher),
        gateway,
        clock,
    }
}

/// Tokens printed at start in the embedded mode, for the README's tour.
#[derive(Debug, Clone)]
pub struct DemoTokens {
    pub buyer: String,
    pub admin: String,
}

/// The running application.
pub struct Application {
    address: SocketAddr,
    server: Server,
    jobs: Option<Jobs>,
    database: Database,
    embedded: Option<EmbeddedPostgres>,
    services: Services,
    ports: Ports,
    jwt: JwtKeys,
    demo_tokens: Option<DemoTokens>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The readiness probe: the database answers `SELECT 1`.
struct DatabaseReadiness(Database);

#[async_trait]
impl Readiness for DatabaseReadiness {
    async fn check(&self) -> anyhow::Result<()> {
        self.0.check().await
    }
}

impl Application {
    /// Starts everything: database (embedded or not), migrations, adapters, demo data (embedded
    /// mode, empty catalog only), the HTTP server on `config.bind_addr` and the jobs.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: Config, overrides: Overrides) -> anyhow::Result<Self> {
        let target = resolve_database(&config).await?;
        match Self::assemble(&config, overrides, &target).await {
            Ok(parts) => Ok(parts.into_application(target.embedded)),
            Err(error) => {
                stop_embedded(target.embedded).await;
                Err(error)
            }
        }
    }

    async fn assemble(
        config: &Config,
        overrides: Overrides,
        target: &DatabaseTarget,
    ) -> anyhow::Result<Parts> {
        let applied = run_migrations(target.url.expose())
            .await
            .context("running migrations")?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "applied migrations");
        }
        let mut db_config = DatabaseConfig::new(target.url.expose());
        db_config.max_size = config.db_pool_size;
        let database = Database::new(&db_config)?;
        let gateway = match overrides.gateway {
            Some(gateway) => gateway,
            None => adapters_toss::build_gateway(config.gateway.clone())?,
        };
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let ports = wire_ports(&database, gateway, clock);
        let policies = Policies {
            order_ttl: time::Duration::try_from(config.order_ttl)
                .context("ORDER_TTL_SECS is too large")?,
            ..Policies::default()
        };
        let services = Services::new(&ports, policies);
        let demo_tokens = if target.embedded.is_some() {
            if seed_demo(&services).await? {
                tracing::info!("seeded the demo catalog, coupons and points");
            }
            Some(())
        } else {
            None
        };

        let jwt = JwtKeys::new(target.jwt_secret.expose().as_bytes());
        let state = HttpState::new(
            &ports,
            services.clone(),
            jwt.clone(),
            Arc::new(DatabaseReadiness(database.clone())),
        );
        let metrics = state.metrics().clone();
        let pool = database.clone();
        metrics.set_pool_usage(move || {
            let now = pool.stats();
            PoolUsage {
                max_size: now.max_size as u64,
                size: now.size as u64,
                available: now.available as u64,
                waiting: now.waiting as u64,
            }
        });
        let listener = TcpListener::bind(config.bind_addr).with_context(|| {
            format!(
                "binding {} (is another server running? set BIND_ADDR)",
                config.bind_addr
            )
        })?;
        let address = listener.local_addr()?;
        let server = adapters_http::serve(listener, state, config.http_workers)?;
        let jobs = (!overrides.without_jobs).then(|| {
            Jobs::start(
                &services,
                JobIntervals {
                    expire: config.expire_interval,
                    reconcile: config.reconcile_interval,
                    reconcile_after: config.reconcile_after,
                    outbox: std::time::Duration::from_secs(1),
                    purge: std::time::Duration::from_secs(3600),
                },
                Some(&metrics),
            )
        });
        let demo_tokens = match demo_tokens {
            Some(()) => Some(DemoTokens {
                buyer: jwt.issue_token(DEMO_BUYER, false, time::Duration::days(30))?,
                admin: jwt.issue_token(DEMO_ADMIN, true, time::Duration::days(30))?,
            }),
            None => None,
        };
        Ok(Parts {
            address,
            server,
            jobs,
            database,
            services,
            ports,
            jwt,
            demo_tokens,
        })
    }

    /// The bound address (the real port when `BIND_ADDR` used port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Stops the server gracefully when asked (`stop(true)` drains in-flight requests).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The use cases, for tests that drive the jobs or set up data directly.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The adapters behind the use cases, for tests that set up or inspect state directly.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A token for `user`, signed with this server's secret.
    pub fn token(&self, user: UserId, admin: bool) -> anyhow::Result<String> {
        Ok(self
            .jwt
            .issue_token(user, admin, time::Duration::hours(1))?)
    }

    pub fn demo_tokens(&self) -> Option<&DemoTokens> {
        self.demo_tokens.as_ref()
    }

    /// Serves until the server stops (SIGTERM/SIGINT or a handle's `stop`), then drains, stops
    /// the jobs, closes the pool and stops the embedded PostgreSQL.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await;
        if let Some(jobs) = self.jobs {
            jobs.stop().await;
        }
        self.database.close();
        stop_embedded(self.embedded).await;
        served.context("the HTTP server failed")
    }
}

/// Everything but the embedded server, so a failed build can still stop it.
struct Parts {
    address: SocketAddr,
    server: Server,
    jobs: Option<Jobs>,
    database: Database,
    services: Services,
    ports: Ports,
    jwt: JwtKeys,
    demo_tokens: Option<DemoTokens>,
}

impl Parts {
    fn into_application(self, embedded: Option<EmbeddedPostgres>) -> Application {
        Application {
            address: self.address,
            server: self.server,
            jobs: self.jobs,
            database: self.database,
            embedded,
            services: self.services,
            ports: self.ports,
            jwt: self.jwt,
            demo_tokens: self.demo_tokens,
        }
    }
}
