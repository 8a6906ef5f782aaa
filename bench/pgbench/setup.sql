-- pgbench's own rows, in the migrated database the server uses (run once, before pgbench):
-- 10,000 products with plenty of stock, one FIXED 1,000-won coupon, and 200,000 buyers
-- (user ids 900000001..900200000, far from the load generator's random ids above 10^12), each
-- with a point balance and one ISSUED copy of the coupon whose owned-coupon id is the user id.
-- Idempotent: a second run adds nothing.
BEGIN;

INSERT INTO products (name, price, selling_price, stock, thumbnail_url, short_description)
SELECT 'pgbench 상품 ' || g, (10 + (g * 7919) % 591) * 100, (10 + (g * 7919) % 591) * 100,
       1000000000, 'https://img.example/pgbench/' || g || '.png', 'pgbench'
FROM generate_series(1, 10000) AS g
WHERE NOT EXISTS (SELECT 1 FROM products WHERE name = 'pgbench 상품 1');

INSERT INTO coupons (name, kind, amount, valid_until)
SELECT 'pgbench 1,000원', 'FIXED', 1000, '2099-12-31T23:59:59Z'
WHERE NOT EXISTS (SELECT 1 FROM coupons WHERE name = 'pgbench 1,000원');

INSERT INTO point_balances (user_id, balance, updated_at)
SELECT 900000000 + g, 100000000, now()
FROM generate_series(1, 200000) AS g
ON CONFLICT (user_id) DO NOTHING;

INSERT INTO owned_coupons (id, user_id, coupon_id, issued_at) OVERRIDING SYSTEM VALUE
SELECT 900000000 + g, 900000000 + g, (SELECT id FROM coupons WHERE name = 'pgbench 1,000원'), now()
FROM generate_series(1, 200000) AS g
ON CONFLICT DO NOTHING;

COMMIT;
ANALYZE;

-- The product id range pgbench draws from (read by scripts/bench.sh).
SELECT min(id), max(id) FROM products WHERE short_description = 'pgbench';
