-- Payment attempts. Every state change is a compare-and-set on `status`
-- (`UPDATE .. WHERE id = $1 AND status = 'CONFIRMING'`), so two writers racing to settle one
-- payment cannot both win.
CREATE TABLE payments (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        BIGINT      NOT NULL REFERENCES orders (id),
    status          TEXT        NOT NULL DEFAULT 'READY',
    origin_amount   BIGINT      NOT NULL,
    owned_coupon_id BIGINT      REFERENCES owned_coupons (id),
    coupon_discount BIGINT      NOT NULL DEFAULT 0,
    used_point      BIGINT      NOT NULL DEFAULT 0,
    shipping_fee    BIGINT      NOT NULL DEFAULT 0,
    amount          BIGINT      NOT NULL,
    payment_key     TEXT,
    method          TEXT,
    approved_at     TIMESTAMPTZ,
    failure_code    TEXT,
    failure_message TEXT,
    cancel_amount   BIGINT,
    revoked_point   BIGINT      NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    -- When the reconciler last claimed it (or its status last changed): a pending payment is
    -- looked up at the gateway only once this is older than the reconcile delay, so several
    -- instances never look up the same payment at once.
    checked_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT payments_status_known CHECK (
        status IN ('READY', 'CONFIRMING', 'APPROVED', 'FAILED', 'CANCELING', 'CANCELED')),
    CONSTRAINT payments_amounts_not_negative CHECK (
        origin_amount >= 0 AND coupon_discount >= 0 AND used_point >= 0 AND shipping_fee >= 0
        AND amount >= 0 AND revoked_point >= 0 AND (cancel_amount IS NULL OR cancel_amount >= 0)),
    CONSTRAINT payments_amount_adds_up
        CHECK (amount = origin_amount - coupon_discount + shipping_fee - used_point),
    CONSTRAINT payments_discount_within_origin CHECK (coupon_discount <= origin_amount),
    CONSTRAINT payments_discount_needs_coupon CHECK (coupon_discount = 0 OR owned_coupon_id IS NOT NULL),
    CONSTRAINT payments_cancel_within_amount CHECK (cancel_amount IS NULL OR cancel_amount <= amount),
    CONSTRAINT payments_key_once_confirmed CHECK (status IN ('READY', 'FAILED') OR payment_key IS NOT NULL),
    CONSTRAINT payments_approved_at_once_approved
        CHECK (status NOT IN ('APPROVED', 'CANCELING', 'CANCELED') OR approved_at IS NOT NULL),
    CONSTRAINT payments_failure_complete CHECK ((failure_code IS NULL) = (failure_message IS NULL))
);

-- One live payment per order: FAILED and CANCELED ones are history.
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id)
    WHERE status IN ('READY', 'CONFIRMING', 'APPROVED', 'CANCELING');
-- An order's latest payment.
CREATE INDEX payments_by_order ON payments (order_id, id DESC);
-- The reconciler's scan of payments pending at the gateway.
CREATE INDEX payments_pending_scan ON payments (checked_at) WHERE status IN ('CONFIRMING', 'CANCELING');
