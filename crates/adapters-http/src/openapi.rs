//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! DTOs' `ToSchema` derives, served at `GET /openapi.json` (no bundled UI: its assets would be
//! downloaded at build time).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::Problem;
use crate::routes::{admin, cart, coupons, orders, payments, points, products};
use crate::{health, metrics};

/// The API description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Commerce order API",
        description = "Products, cart, orders, payments (Toss Payments widget flow), coupons and points. \
            Errors are application/problem+json with a stable `code`; mutating /v1 calls accept an \
            Idempotency-Key; lists are cursor-paged. See docs/API.md.",
    ),
    paths(
        products::list, products::get,
        cart::view, cart::add, cart::update, cart::remove,
        orders::place, orders::place_from_cart, orders::checkout, orders::list, orders::detail,
        orders::cancel,
        payments::request, payments::confirm, payments::fail,
        coupons::downloadable, coupons::download, coupons::owned,
        points::view,
        admin::create_product, admin::update_product, admin::create_coupon, admin::grant_points,
        health::live, health::ready, metrics::scrape, document,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "orders", description = "The seed's order endpoints, and cancel"),
        (name = "payments", description = "Request, confirm, fail"),
        (name = "products", description = "The catalog"),
        (name = "cart", description = "The buyer's cart"),
        (name = "coupons", description = "Downloadable and owned coupons"),
        (name = "points", description = "Balance and ledger"),
        (name = "admin", description = "Needs a token with \"role\": \"admin\""),
        (name = "operations", description = "Health, metrics, this document"),
    ),
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme the paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256; `sub` = user id, `exp` required, `\"role\": \"admin\"` for /admin/v1",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON, rendered once.
pub fn json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default())
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
