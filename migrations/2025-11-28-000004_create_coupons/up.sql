-- Coupon definitions, their target products, and the coupons users downloaded.
--
-- A download is `UPDATE coupons SET issued_count = issued_count + 1 WHERE .. issued_count <
-- issue_limit` plus an insert into owned_coupons in one transaction: the row lock on the coupon
-- serialises downloads, the CHECK below backs the limit, and the unique (user_id, coupon_id)
-- key makes a second download by the same user fail (and roll the increment back).
CREATE TABLE coupons (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT        NOT NULL,
    kind             TEXT        NOT NULL,
    -- FIXED: won off.
    amount           BIGINT,
    -- RATE: percent off, optionally capped at max_discount won.
    percent          SMALLINT,
    max_discount     BIGINT,
    min_order_amount BIGINT      NOT NULL DEFAULT 0,
    valid_until      TIMESTAMPTZ NOT NULL,
    -- NULL: unlimited.
    issue_limit      INTEGER,
    issued_count     INTEGER     NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT coupons_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT coupons_kind_known CHECK (kind IN ('FIXED', 'RATE')),
    CONSTRAINT coupons_kind_fields CHECK (
        (kind = 'FIXED' AND amount > 0 AND percent IS NULL AND max_discount IS NULL)
        OR (kind = 'RATE' AND amount IS NULL AND percent BETWEEN 1 AND 100
            AND (max_discount IS NULL OR max_discount >= 0))),
    CONSTRAINT coupons_min_order_amount_not_negative CHECK (min_order_amount >= 0),
    CONSTRAINT coupons_issue_limit_positive CHECK (issue_limit IS NULL OR issue_limit >= 1),
    CONSTRAINT coupons_issued_count_not_negative CHECK (issued_count >= 0),
    CONSTRAINT coupons_issue_limit_holds CHECK (issue_limit IS NULL OR issued_count <= issue_limit)
);

-- Downloadable coupons: still valid.
CREATE INDEX coupons_valid_until ON coupons (valid_until);

-- No row for a coupon means it applies to every product.
CREATE TABLE coupon_products (
    coupon_id  BIGINT NOT NULL REFERENCES coupons (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    PRIMARY KEY (coupon_id, product_id)
);

CREATE TABLE owned_coupons (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT      NOT NULL,
    coupon_id     BIGINT      NOT NULL REFERENCES coupons (id),
    status        TEXT        NOT NULL DEFAULT 'ISSUED',
    used_order_id BIGINT      REFERENCES orders (id),
    issued_at     TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    CONSTRAINT owned_coupons_once_per_user UNIQUE (user_id, coupon_id),
    CONSTRAINT owned_coupons_status_known CHECK (status IN ('ISSUED', 'USED')),
    CONSTRAINT owned_coupons_used_on_an_order
        CHECK ((status = 'USED') = (used_order_id IS NOT NULL AND used_at IS NOT NULL))
);

-- A user's coupons, newest first.
CREATE INDEX owned_coupons_user_newest ON owned_coupons (user_id, id DESC);
