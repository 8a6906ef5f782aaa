-- The minimal SQL of placing an order (POST /v1/orders {productId, quantity}), in one
-- transaction: read the product, insert the CREATED order and its one item. The order key is a
-- time-ordered 26-character key like the server's ULIDs ('0' + microseconds + random digits).
-- Run by scripts/bench.sh: pgbench -n -M prepared -c C -j 2 -T S -D minpid=.. -D maxpid=..
\set pid random(:minpid, :maxpid)
\set qty random(1, 3)
\set uid random(900000001, 900200000)
BEGIN;
SELECT name AS pname, selling_price AS price, thumbnail_url AS thumb
  FROM products WHERE id = :pid AND status = 'ACTIVE' \gset
\set total :price * :qty
\set fee case when :total >= 50000 then 0 else 3000 end
INSERT INTO orders (order_key, user_id, name, items_total, shipping_fee,
                    created_at, expires_at, updated_at)
VALUES ('0' || lpad((extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text, 16, '0')
            || lpad((random() * 999999999)::bigint::text, 9, '0'),
        :uid, :pname, :total, :fee, now(), now() + interval '30 minutes', now())
RETURNING id AS oid \gset
INSERT INTO order_items (order_id, line_no, product_id, product_name, thumbnail_url,
                         unit_price, quantity, line_total)
VALUES (:oid, 0, :pid, :pname, :thumb, :price, :qty, :total);
END;
