-- Points: a balance per user (created lazily) and the ledger of every change.
--
-- Spending is `UPDATE point_balances SET balance = balance - n WHERE user_id = $1 AND balance >= n`;
-- the CHECK backs it. Each ledger row is written in the same transaction as the balance change,
-- while the balance row is locked, so per user the ledger's ids follow the balance's history and
-- the credits minus debits always equal the balance.
CREATE TABLE point_balances (
    user_id    BIGINT PRIMARY KEY,
    balance    BIGINT      NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT point_balances_never_negative CHECK (balance >= 0)
);

CREATE TABLE point_ledger (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT      NOT NULL REFERENCES point_balances (user_id),
    kind          TEXT        NOT NULL,
    -- Always positive; `kind` gives the direction.
    amount        BIGINT      NOT NULL,
    balance_after BIGINT      NOT NULL,
    order_key     TEXT COLLATE "C" REFERENCES orders (order_key),
    reason        TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT point_ledger_kind_known
        CHECK (kind IN ('GRANT', 'USE', 'REFUND', 'EARN', 'EARN_REVOKE')),
    CONSTRAINT point_ledger_amount_positive CHECK (amount > 0),
    CONSTRAINT point_ledger_balance_after_not_negative CHECK (balance_after >= 0),
    CONSTRAINT point_ledger_order_unless_grant CHECK (kind = 'GRANT' OR order_key IS NOT NULL)
);

-- A user's ledger newest first; keyset on id.
CREATE INDEX point_ledger_user_newest ON point_ledger (user_id, id DESC);
