-- `Idempotency-Key` records, per user and key. Claimed with `INSERT .. ON CONFLICT DO NOTHING`
-- and then a row lock, so of two requests with one key exactly one runs.
CREATE TABLE idempotency_records (
    user_id               BIGINT      NOT NULL,
    idempotency_key       TEXT        NOT NULL,
    -- A hash of the request (method, path, body): the same key with another request is refused.
    fingerprint           TEXT        NOT NULL,
    response_status       INTEGER,
    response_content_type TEXT,
    response_body         BYTEA,
    created_at            TIMESTAMPTZ NOT NULL,
    -- When the request now running took the key; an unfinished record locked long ago belongs
    -- to a server that died and may be taken over.
    locked_at             TIMESTAMPTZ NOT NULL,
    completed_at          TIMESTAMPTZ,
    PRIMARY KEY (user_id, idempotency_key),
    CONSTRAINT idempotency_records_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_records_response_complete CHECK (
        num_nulls(response_status, response_content_type, response_body, completed_at) IN (0, 4)),
    CONSTRAINT idempotency_records_status_range CHECK (response_status BETWEEN 100 AND 599)
);

-- The purge of records older than a day.
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
