//! Liveness and readiness. Live means the process answers; ready means it can serve requests,
//! which the app decides (it checks the database) through the [`Readiness`] port.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::{ApiError, Code};
use crate::state::HttpState;

/// A readiness probe; the app implements it with its database pool.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when dependencies answer.
    ///
    /// # Errors
    /// What is not ready; logged, never shown to the caller.
    async fn check(&self) -> anyhow::Result<()>;
}

/// A probe that is always ready (tests, or an app without dependencies).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysReady;

#[async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A readiness check that takes longer than this counts as not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// Always `"ok"`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", operation_id = "live", tag = "operations",
    responses((status = 200, description = "The process answers", body = HealthStatus)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// The service can take traffic (its database answers).
#[utoipa::path(get, path = "/health/ready", operation_id = "ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "A dependency is not reachable", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(state: web::Data<HttpState>) -> Result<HttpResponse, ApiError> {
    let outcome = actix_web::rt::time::timeout(READY_TIMEOUT, state.readiness.check()).await;
    match outcome {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" })),
        Ok(Err(error)) => {
            tracing::warn!(error = format!("{error:#}"), "not ready");
            Err(not_ready())
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            Err(not_ready())
        }
    }
}

fn not_ready() -> ApiError {
    ApiError::new(Code::ServiceUnavailable, "a dependency is not reachable").retryable()
}
