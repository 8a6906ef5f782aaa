-- Carts: one line per user and product. Adding a product already in the cart is an
-- `INSERT .. ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = quantity + n`, so
-- concurrent adds are never lost, and the CHECK turns a line past 999 units into an error.
CREATE TABLE cart_items (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    product_id BIGINT      NOT NULL REFERENCES products (id),
    quantity   INTEGER     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT cart_items_quantity_range CHECK (quantity BETWEEN 1 AND 999),
    CONSTRAINT cart_items_one_line_per_product UNIQUE (user_id, product_id)
);
