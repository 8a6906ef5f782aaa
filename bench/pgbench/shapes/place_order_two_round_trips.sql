-- An experiment, not a baseline: the fewest round trips placing an order can take. The product
-- read, then the order and its item in one statement (a data-modifying CTE is atomic on its own,
-- so no BEGIN/COMMIT round trips). Prepared, as a cached statement would be.
\set pid random(:minpid, :maxpid)
\set qty random(1, 3)
\set uid random(900000001, 900200000)
SELECT name AS pname, selling_price AS price, thumbnail_url AS thumb
  FROM products WHERE id = :pid AND status = 'ACTIVE' \gset
\set total :price * :qty
\set fee case when :total >= 50000 then 0 else 3000 end
WITH o AS (
  INSERT INTO orders (order_key, user_id, name, items_total, shipping_fee,
                      created_at, expires_at, updated_at)
  VALUES ('0' || lpad((extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text, 16, '0')
              || lpad((random() * 999999999)::bigint::text, 9, '0'),
          :uid, :pname, :total, :fee, now(), now() + interval '30 minutes', now())
  RETURNING id)
INSERT INTO order_items (order_id, line_no, product_id, product_name, thumbnail_url,
                         unit_price, quantity, line_total)
SELECT o.id, 0, :pid, :pname, :thumb, :price, :qty, :total FROM o;
