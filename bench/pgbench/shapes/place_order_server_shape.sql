-- An experiment, not a baseline: place_order.sql with the round trips `commerce` makes today
-- (see docs/PERFORMANCE.md): the pool's `SELECT 1` check on each of the two connection
-- checkouts, the product read in its own implicit transaction, and one extra round trip before
-- each INSERT (diesel never caches INSERT/UPDATE statements, so diesel-async prepares them with
-- a Parse round trip of their own before executing them). Run with -M extended so every
-- statement is also parsed and planned each time, as the uncached ones are.
\set pid random(:minpid, :maxpid)
\set qty random(1, 3)
\set uid random(900000001, 900200000)
SELECT 1;
SELECT name AS pname, selling_price AS price, thumbnail_url AS thumb
  FROM products WHERE id = :pid AND status = 'ACTIVE' \gset
SELECT 1;
BEGIN;
\set total :price * :qty
\set fee case when :total >= 50000 then 0 else 3000 end
SELECT 1;
INSERT INTO orders (order_key, user_id, name, items_total, shipping_fee,
                    created_at, expires_at, updated_at)
VALUES ('0' || lpad((extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text, 16, '0')
            || lpad((random() * 999999999)::bigint::text, 9, '0'),
        :uid, :pname, :total, :fee, now(), now() + interval '30 minutes', now())
RETURNING id AS oid \gset
SELECT 1;
INSERT INTO order_items (order_id, line_no, product_id, product_name, thumbnail_url,
                         unit_price, quantity, line_total)
VALUES (:oid, 0, :pid, :pname, :thumb, :price, :qty, :total);
END;
