-- The transactional outbox: events are inserted by the transaction that makes the change they
-- report, and a relay publishes them later.
CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         TEXT        NOT NULL,
    payload       JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    -- A relay that took the message; others skip it until then.
    claimed_until TIMESTAMPTZ,
    published_at  TIMESTAMPTZ
);

-- The relay's scan of unpublished messages, oldest first.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
