-- Orders and their item snapshots.
--
-- `payment_in_progress` is true exactly while a payment of the order is CONFIRMING. It lives on
-- the order row (not only on the payment) so that the expiry job and buyer cancellation, which
-- update the order row, conflict with a reservation on that same row: under READ COMMITTED a
-- `NOT EXISTS (confirming payment)` subquery could read a stale snapshot, a row lock cannot.
CREATE TABLE orders (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A ULID: sorts by creation time, so "newest first" pages on it. "C" collation keeps the
    -- sort byte-wise whatever the database's locale.
    order_key            TEXT COLLATE "C" NOT NULL,
    user_id              BIGINT      NOT NULL,
    name                 TEXT        NOT NULL,
    status               TEXT        NOT NULL DEFAULT 'CREATED',
    items_total          BIGINT      NOT NULL,
    shipping_fee         BIGINT      NOT NULL,
    coupon_discount      BIGINT      NOT NULL DEFAULT 0,
    used_point           BIGINT      NOT NULL DEFAULT 0,
    paid_amount          BIGINT      NOT NULL DEFAULT 0,
    earned_point         BIGINT      NOT NULL DEFAULT 0,
    ship_recipient       TEXT,
    ship_phone           TEXT,
    ship_zip_code        TEXT,
    ship_address1        TEXT,
    ship_address2        TEXT,
    source_cart_item_ids BIGINT[]    NOT NULL DEFAULT '{}',
    payment_in_progress  BOOLEAN     NOT NULL DEFAULT false,
    created_at           TIMESTAMPTZ NOT NULL,
    expires_at           TIMESTAMPTZ NOT NULL,
    paid_at              TIMESTAMPTZ,
    canceled_at          TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL,
    CONSTRAINT orders_order_key_unique UNIQUE (order_key),
    CONSTRAINT orders_order_key_is_ulid CHECK (order_key ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$'),
    CONSTRAINT orders_status_known CHECK (status IN ('CREATED', 'PAID', 'CANCELED', 'EXPIRED')),
    CONSTRAINT orders_amounts_not_negative CHECK (
        items_total >= 0 AND shipping_fee >= 0 AND coupon_discount >= 0
        AND used_point >= 0 AND paid_amount >= 0 AND earned_point >= 0),
    CONSTRAINT orders_payment_in_progress_only_while_created
        CHECK (NOT payment_in_progress OR status = 'CREATED'),
    CONSTRAINT orders_paid_at_when_paid CHECK (status <> 'PAID' OR paid_at IS NOT NULL),
    CONSTRAINT orders_canceled_at_when_canceled
        CHECK (status <> 'CANCELED' OR canceled_at IS NOT NULL),
    CONSTRAINT orders_address_complete
        CHECK (num_nulls(ship_recipient, ship_phone, ship_zip_code, ship_address1) IN (0, 4)),
    CONSTRAINT orders_expiry_after_creation CHECK (expires_at >= created_at)
);

-- A user's orders newest first, by status (the default list) or any status; keyset on order_key.
CREATE INDEX orders_user_status_newest ON orders (user_id, status, order_key DESC);
CREATE INDEX orders_user_newest ON orders (user_id, order_key DESC);
-- The expiry job's scan: only unpaid orders, oldest expiry first.
CREATE INDEX orders_expiry_scan ON orders (expires_at) WHERE status = 'CREATED';

CREATE TABLE order_items (
    order_id      BIGINT  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no       INTEGER NOT NULL,
    product_id    BIGINT  NOT NULL REFERENCES products (id),
    product_name  TEXT    NOT NULL,
    thumbnail_url TEXT,
    unit_price    BIGINT  NOT NULL,
    quantity      INTEGER NOT NULL,
    line_total    BIGINT  NOT NULL,
    -- The line's share of the coupon discount, written when a payment is requested.
    discount      BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_items_line_no_not_negative CHECK (line_no >= 0),
    -- Stock is reserved per product in product id order: one line per product.
    CONSTRAINT order_items_one_line_per_product UNIQUE (order_id, product_id),
    CONSTRAINT order_items_unit_price_not_negative CHECK (unit_price >= 0),
    CONSTRAINT order_items_quantity_range CHECK (quantity BETWEEN 1 AND 999),
    CONSTRAINT order_items_line_total CHECK (line_total = unit_price * quantity),
    CONSTRAINT order_items_discount_within_line CHECK (discount BETWEEN 0 AND line_total)
);
