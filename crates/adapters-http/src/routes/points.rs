//! The buyer's points.

use actix_web::{HttpResponse, web};
use domain::model::PointEntryId;

use crate::auth::AuthUser;
use crate::dto::pagination::{self, PageQuery};
use crate::dto::points::PointsBody;
use crate::problem::{ApiError, Problem};
use crate::state::HttpState;

/// The balance and one page of the ledger, newest first.
#[utoipa::path(get, path = "/v1/points", operation_id = "getPoints", tag = "points", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Balance and ledger", body = PointsBody),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn view(
    state: web::Data<HttpState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let after = pagination::id_cursor(query.cursor.as_deref())?.map(PointEntryId::new);
    let limit = pagination::limit(query.limit)?;
    let view = state.services.points.view(user.id, after, limit).await?;
    Ok(HttpResponse::Ok().json(PointsBody::from(view)))
}
