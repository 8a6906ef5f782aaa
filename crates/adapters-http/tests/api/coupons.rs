use actix_web::test::{TestRequest, call_service};
use domain::model::*;
use domain::ports::DownloadCouponError;

use crate::app;
use crate::support::*;

#[actix_web::test]
async fn lists_downloadable_coupons() {
    let mut m = Mocks::new();
    m.coupons.expect_list_downloadable().returning(|_, at| {
        assert_eq!(at, now());
        Ok(vec![coupon(
            5,
            CouponKind::Rate {
                percent: Percent::new(10).unwrap(),
                max_discount: Some(won(3_000)),
            },
        )])
    });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/coupons")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    let c = &body["items"][0];
    assert_eq!(c["kind"], "RATE");
    assert_eq!(c["percent"], 10);
    assert_eq!(c["maxDiscount"], 3_000);
    assert!(c["amount"].is_null());
    assert_eq!(c["validUntil"], "2026-12-05T12:00:00Z");
}

#[actix_web::test]
async fn downloads_a_coupon_once() {
    let mut m = Mocks::new();
    let mut answers = vec![
        Ok(owned(
            21,
            coupon(5, CouponKind::Fixed { amount: won(5_000) }),
        )),
        Err(DownloadCouponError::AlreadyDownloaded),
        Err(DownloadCouponError::Exhausted),
        Err(DownloadCouponError::Expired),
        Err(DownloadCouponError::NotFound(CouponId::new(5))),
    ];
    m.coupons
        .expect_download()
        .times(5)
        .returning(move |_, _, _| answers.remove(0));
    let app = app!(m);
    let download = || {
        TestRequest::post()
            .uri("/v1/coupons/5/download")
            .insert_header(bearer(BUYER))
            .to_request()
    };
    let res = call_service(&app, download()).await;
    assert_eq!(res.status(), 201);
    let body = json(res).await;
    assert_eq!(body["id"], 21);
    assert_eq!(body["couponId"], 5);
    assert_eq!(body["status"], "ISSUED");
    problem(
        call_service(&app, download()).await,
        409,
        "COUPON_ALREADY_DOWNLOADED",
    )
    .await;
    problem(
        call_service(&app, download()).await,
        409,
        "COUPON_EXHAUSTED",
    )
    .await;
    problem(call_service(&app, download()).await, 409, "COUPON_EXPIRED").await;
    problem(
        call_service(&app, download()).await,
        404,
        "COUPON_NOT_FOUND",
    )
    .await;
}

#[actix_web::test]
async fn lists_owned_coupons() {
    let mut m = Mocks::new();
    m.coupons.expect_list_owned().returning(|user| {
        assert_eq!(user, BUYER);
        let mut used = owned(22, coupon(6, CouponKind::Fixed { amount: won(1_000) }));
        used.status = OwnedCouponStatus::Used;
        Ok(vec![used])
    });
    let app = app!(m);
    let req = TestRequest::get()
        .uri("/v1/owned-coupons")
        .insert_header(bearer(BUYER))
        .to_request();
    let body = json(call_service(&app, req).await).await;
    assert_eq!(
        body["items"][0],
        serde_json::json!({"id": 22, "couponId": 6, "name": "쿠폰 6", "kind": "FIXED",
                           "status": "USED", "validUntil": "2026-12-05T12:00:00Z"})
    );
}
