//! The route table: every endpoint of SPEC §3 and the operational ones, in one place.
//! One module per resource; handlers convert bodies into domain values, call one use case and
//! shape its answer.

pub mod admin;
pub mod cart;
pub mod coupons;
pub mod orders;
pub mod payments;
pub mod points;
pub mod products;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

use crate::problem::{ApiError, Code, extractor_configs};
use crate::{health, idempotency, metrics, openapi};

/// Registers the extractor configs, every route and the problem+json 404 for unknown paths.
/// Middlewares (request id, metrics, problem normalisation) are added by [`crate::app`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    let (json, path, query, payload) = extractor_configs();
    cfg.app_data(json)
        .app_data(path)
        .app_data(query)
        .app_data(payload)
        .service(
            web::scope("/v1")
                .wrap(from_fn(idempotency::guard))
                .service(web::resource("/products").get(products::list))
                .service(web::resource("/products/{id}").get(products::get))
                .service(web::resource("/cart").get(cart::view))
                .service(web::resource("/cart/items").post(cart::add))
                .service(
                    web::resource("/cart/items/{id}")
                        .patch(cart::update)
                        .delete(cart::remove),
                )
                .service(
                    web::resource("/orders")
                        .get(orders::list)
                        .post(orders::place),
                )
                .service(web::resource("/cart-orders").post(orders::place_from_cart))
                .service(web::resource("/orders/{orderKey}").get(orders::detail))
                .service(web::resource("/orders/{orderKey}/checkout").get(orders::checkout))
                .service(web::resource("/orders/{orderKey}/cancel").post(orders::cancel))
                .service(web::resource("/coupons").get(coupons::downloadable))
                .service(web::resource("/coupons/{id}/download").post(coupons::download))
                .service(web::resource("/owned-coupons").get(coupons::owned))
                .service(web::resource("/points").get(points::view))
                .service(web::resource("/payments").post(payments::request))
                .service(web::resource("/payments/confirm").post(payments::confirm))
                .service(web::resource("/payments/fail").post(payments::fail)),
        )
        .service(
            web::scope("/admin/v1")
                .service(web::resource("/products").post(admin::create_product))
                .service(web::resource("/products/{id}").patch(admin::update_product))
                .service(web::resource("/coupons").post(admin::create_coupon))
                .service(web::resource("/users/{userId}/points").post(admin::grant_points)),
        )
        .service(web::resource("/health/live").get(health::live))
        .service(web::resource("/health/ready").get(health::ready))
        .service(web::resource("/metrics").get(metrics::scrape))
        .service(web::resource("/openapi.json").get(openapi::document))
        .default_service(web::to(not_found));
}

/// Unknown paths: a 404 problem rather than actix's empty body.
async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(Code::NotFound, "no such resource"))
}
