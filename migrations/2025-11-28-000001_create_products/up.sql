-- The catalog. Stock is decremented by payment confirmations with
-- `UPDATE .. SET stock = stock - n WHERE id = $1 AND stock >= n`; the CHECK is the last line of
-- defence should any other writer forget the condition.
CREATE TABLE products (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              TEXT        NOT NULL,
    thumbnail_url     TEXT,
    short_description TEXT,
    price             BIGINT      NOT NULL,
    selling_price     BIGINT      NOT NULL,
    stock             INTEGER     NOT NULL,
    status            TEXT        NOT NULL DEFAULT 'ACTIVE',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_price_positive CHECK (price > 0),
    CONSTRAINT products_selling_price_not_negative CHECK (selling_price >= 0),
    CONSTRAINT products_selling_price_within_price CHECK (selling_price <= price),
    CONSTRAINT products_stock_not_negative CHECK (stock >= 0),
    CONSTRAINT products_status_known CHECK (status IN ('ACTIVE', 'INACTIVE'))
);

-- The public catalog pages through active products only.
CREATE INDEX products_active ON products (id) WHERE status = 'ACTIVE';
