//! `GET /v1/products`, `GET /v1/products/{id}`.

use actix_web::{HttpResponse, web};
use domain::model::ProductId;

use crate::auth::AuthUser;
use crate::dto::id;
use crate::dto::pagination::{self, PageQuery};
use crate::dto::products::{ProductPage, ProductView};
use crate::problem::{ApiError, Problem};
use crate::state::HttpState;

/// Products on sale, in id order.
#[utoipa::path(get, path = "/v1/products", operation_id = "listProducts", tag = "products", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of ACTIVE products", body = ProductPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    state: web::Data<HttpState>,
    _user: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let after = pagination::id_cursor(query.cursor.as_deref())?.map(ProductId::new);
    let limit = pagination::limit(query.limit)?;
    let page = state.services.catalog.list(after, limit).await?;
    Ok(HttpResponse::Ok().json(ProductPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|id| id.value().to_string()),
    }))
}

/// One product, on sale or not.
#[utoipa::path(get, path = "/v1/products/{id}", operation_id = "getProduct", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PRODUCT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "Internal error or service unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    state: web::Data<HttpState>,
    _user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId::new(id("id", path.into_inner())?);
    let product = state.services.catalog.get(id).await?;
    Ok(HttpResponse::Ok().json(ProductView::from(product)))
}
