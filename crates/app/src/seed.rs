//! Demo data for the embedded default and `commerce seed`: a small catalog, two coupons and
//! some points for the demo buyer. Runs only on an empty catalog, so it is safe to repeat.

use domain::model::{CouponKind, Money, NewProduct, PageLimit, Percent, ProductId, UserId};
use domain::usecases::Services;
use time::OffsetDateTime;

/// The user id the printed buyer token carries.
pub const DEMO_BUYER: UserId = UserId::new(1);
/// The user id the printed admin token carries.
pub const DEMO_ADMIN: UserId = UserId::new(9000);

fn won(n: i64) -> anyhow::Result<Money> {
    Ok(Money::new(n)?)
}

/// Seeds the demo data unless the catalog already has products. Returns whether it seeded.
pub async fn seed_demo(services: &Services) -> anyhow::Result<bool> {
    let existing = services.catalog.list(None, PageLimit::new(1)?).await?;
    if !existing.items.is_empty() {
        return Ok(false);
    }
    let catalog = [
        (
            "베이직 코튼 티셔츠",
            19_000,
            15_900,
            100,
            "매일 입기 좋은 20수 코튼 티셔츠",
        ),
        (
            "와이드 데님 팬츠",
            49_000,
            42_000,
            50,
            "허리 밴딩 와이드 핏 데님",
        ),
        (
            "경량 패딩 점퍼",
            129_000,
            99_000,
            20,
            "가볍고 따뜻한 경량 패딩",
        ),
        (
            "러닝 양말 3팩",
            9_900,
            9_900,
            300,
            "쿠션감 있는 러닝 전용 양말",
        ),
        (
            "캔버스 토트백",
            25_000,
            22_000,
            80,
            "A4가 들어가는 튼튼한 캔버스백",
        ),
        (
            "한정판 스니커즈",
            159_000,
            159_000,
            5,
            "수량 한정 컬래버 스니커즈",
        ),
    ];
    let mut ids: Vec<ProductId> = Vec::new();
    for (name, price, selling, stock, description) in catalog {
        let product = NewProduct::new(
            name,
            won(price)?,
            Some(won(selling)?),
            stock,
            Some(format!(
                "https://picsum.photos/seed/{}/400/400",
                ids.len() + 1
            )),
            Some(description.to_owned()),
        )?;
        ids.push(services.admin.create_product(product).await?.id);
    }
    let valid_until = OffsetDateTime::now_utc() + time::Duration::days(365);
    services
        .admin
        .create_coupon(
            "신규 가입 3,000원 할인",
            CouponKind::Fixed {
                amount: won(3_000)?,
            },
            won(20_000)?,
            valid_until,
            vec![],
            None,
        )
        .await?;
    let outerwear: Vec<ProductId> = ids.iter().copied().skip(1).take(2).collect();
    services
        .admin
        .create_coupon(
            "아우터·데님 10% (최대 10,000원)",
            CouponKind::Rate {
                percent: Percent::new(10)?,
                max_discount: Some(won(10_000)?),
            },
            won(30_000)?,
            valid_until,
            outerwear,
            Some(100),
        )
        .await?;
    services
        .admin
        .grant_points(DEMO_BUYER, won(5_000)?, "가입 축하 포인트")
        .await?;
    Ok(true)
}
