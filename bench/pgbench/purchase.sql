-- The minimal SQL of one purchase: the writes a server must make, in the transactions it must
-- make them in (the gateway call sits between the reservation and the approval, outside any
-- transaction, so they cannot be one). The checkout and order-detail reads of the HTTP story are
-- not here: this is the database work the job cannot do without. The mix matches the load
-- generator's purchase scenario: a coupon on 30 % of purchases, 500 points on 50 %.
-- Run by scripts/bench.sh: pgbench -n -M prepared -c C -j 2 -T S -D minpid=.. -D maxpid=..
\set pid random(:minpid, :maxpid)
\set qty random(1, 3)
\set uid random(900000001, 900200000)
\set coupon random(1, 100) <= 30
\set points random(1, 100) <= 50

-- 1. the order: read the product, insert the order and its item
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
RETURNING id AS oid, order_key AS okey \gset
INSERT INTO order_items (order_id, line_no, product_id, product_name, thumbnail_url,
                         unit_price, quantity, line_total)
VALUES (:oid, 0, :pid, :pname, :thumb, :price, :qty, :total);
END;

-- 2. the payment request: the shipping address, the line's coupon share, the READY payment
\set discount case when :coupon then least(1000, :total) else 0 end
\set ocid case when :coupon then :uid else 0 end
\set after :total - :discount
\set fee case when :after >= 50000 then 0 else 3000 end
\set use case when :points then least(500, :after) else 0 end
\set points :use > 0
\set amount :after + :fee - :use
\set earn :amount / 100
BEGIN;
UPDATE orders SET ship_recipient = '홍길동', ship_phone = '010-1234-5678', ship_zip_code = '06236',
       ship_address1 = '서울 강남구 테헤란로 1', ship_address2 = '101호', updated_at = now()
 WHERE id = :oid AND status = 'CREATED' AND NOT payment_in_progress;
\if :coupon
UPDATE order_items SET discount = :discount WHERE order_id = :oid AND line_no = 0;
\endif
INSERT INTO payments (order_id, origin_amount, owned_coupon_id, coupon_discount, used_point,
                      shipping_fee, amount, created_at, updated_at, checked_at)
VALUES (:oid, :total, nullif(:ocid, 0), :discount, :use, :fee, :amount, now(), now(), now())
RETURNING id AS payid \gset
END;

-- 3. the reservation: flag the order, payment READY -> CONFIRMING, and the conditional
--    stock, coupon and point updates
BEGIN;
UPDATE orders SET payment_in_progress = true, updated_at = now()
 WHERE id = :oid AND status = 'CREATED' AND expires_at > now() AND NOT payment_in_progress;
UPDATE payments SET status = 'CONFIRMING', payment_key = 'pgbench-' || CAST(:payid AS text),
       updated_at = now(), checked_at = now()
 WHERE id = :payid AND order_id = :oid AND status = 'READY';
UPDATE products SET stock = stock - :qty, updated_at = now() WHERE id = :pid AND stock >= :qty;
\if :coupon
UPDATE owned_coupons SET status = 'USED', used_order_id = :oid, used_at = now()
 WHERE id = :ocid AND user_id = :uid AND status = 'ISSUED';
\endif
\if :points
UPDATE point_balances SET balance = balance - :use, updated_at = now()
 WHERE user_id = :uid AND balance >= :use
RETURNING balance AS bal \gset
INSERT INTO point_ledger (user_id, kind, amount, balance_after, order_key, created_at)
VALUES (:uid, 'USE', :use, :bal, :okey, now());
\endif
END;

-- (the gateway's confirm call happens here, outside any transaction)

-- 4. the approval: order PAID, payment APPROVED, points earned, the outbox event (the same
--    payload the server writes, so its outbox relay publishes these too)
BEGIN;
UPDATE orders SET status = 'PAID', payment_in_progress = false, coupon_discount = :discount,
       used_point = :use, shipping_fee = :fee, paid_amount = :amount, earned_point = :earn,
       paid_at = now(), updated_at = now()
 WHERE id = :oid AND status = 'CREATED' AND payment_in_progress;
UPDATE payments SET status = 'APPROVED', method = '카드', approved_at = now(),
       updated_at = now(), checked_at = now()
 WHERE id = :payid AND status = 'CONFIRMING';
UPDATE point_balances SET balance = balance + :earn, updated_at = now() WHERE user_id = :uid
RETURNING balance AS bal \gset
INSERT INTO point_ledger (user_id, kind, amount, balance_after, order_key, created_at)
VALUES (:uid, 'EARN', :earn, :bal, :okey, now());
INSERT INTO outbox (topic, payload, created_at)
VALUES ('order.paid', jsonb_build_object('type', 'orderPaid', 'orderKey', CAST(:okey AS text),
                                 'userId', CAST(:uid AS bigint),
                                 'paidAmount', CAST(:amount AS bigint)), now());
END;
