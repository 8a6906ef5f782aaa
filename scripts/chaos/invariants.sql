-- The reliability suite's invariants, checked by SQL after (or during) a chaos run.
--
--   psql "$DATABASE_URL" -X -v ON_ERROR_STOP=1 [-v settled=false] -f scripts/chaos/invariants.sql
--
-- Prints one line per violation (check, subject, detail) and a count per check, and exits
-- non-zero (psql exit 3) when any check is violated. Read-only: it writes only a temporary table.
--
-- `settled` (default true) says that the run is over and the reconciler has had its time
-- (RECONCILE_AFTER_SECS plus a tick): no payment may then be left CONFIRMING or CANCELING.
-- Pass `-v settled=false` to check the other invariants in the middle of a run.
--
-- When the suite seeded the catalog it recorded the stock it started with in
-- `chaos.initial_stock (product_id, stock)`; the stock check then compares
-- "initial - current" with the units held by payments. Without that table the check is skipped.
--
-- Vocabulary: a payment *holds* stock, coupon and points from the reservation (CONFIRMING)
-- until it is released (FAILED) or refunded (CANCELED): CONFIRMING, APPROVED and CANCELING hold.

\if :{?settled}
\else
\set settled true
\endif

\set QUIET on
\pset footer off
SET client_min_messages = warning;

-- One snapshot for every check, so a run in progress is seen as of one instant.
BEGIN ISOLATION LEVEL REPEATABLE READ;

CREATE TEMPORARY TABLE violations (check_name text NOT NULL, subject text, detail text);

-- Payments that hold what their reservation took.
CREATE TEMPORARY VIEW holding AS
    SELECT * FROM payments WHERE status IN ('CONFIRMING', 'APPROVED', 'CANCELING');

-- 1. Stock is never negative.
INSERT INTO violations
SELECT 'stock_not_negative', 'product ' || id, 'stock ' || stock
FROM products WHERE stock < 0;

-- 2. Per product: stock taken = units held by payments (initial stock recorded at seeding).
SELECT to_regclass('chaos.initial_stock') IS NOT NULL AS has_initial_stock \gset
\if :has_initial_stock
INSERT INTO violations
SELECT 'stock_moved_by_payments_only', 'product ' || p.id,
       format('initial %s - current %s = %s, but holding payments hold %s units',
              i.stock, p.stock, i.stock - p.stock, coalesce(h.units, 0))
FROM chaos.initial_stock i
JOIN products p ON p.id = i.product_id
LEFT JOIN (
    SELECT oi.product_id, sum(oi.quantity) AS units
    FROM holding pay JOIN order_items oi ON oi.order_id = pay.order_id
    GROUP BY oi.product_id
) h ON h.product_id = p.id
WHERE i.stock - p.stock <> coalesce(h.units, 0);
\else
\echo 'invariants: no chaos.initial_stock table: the stock-movement check is skipped'
\endif

-- 3. Point balance = credits - debits of the ledger, = the last entry's balance_after, >= 0.
INSERT INTO violations
SELECT 'points_balance_is_ledger_sum', 'user ' || b.user_id,
       format('balance %s, ledger sum %s, last balance_after %s', b.balance, l.total, l.last_after)
FROM point_balances b
LEFT JOIN (
    SELECT user_id,
           sum(CASE WHEN kind IN ('GRANT', 'REFUND', 'EARN') THEN amount ELSE -amount END) AS total,
           (array_agg(balance_after ORDER BY id DESC))[1] AS last_after
    FROM point_ledger GROUP BY user_id
) l ON l.user_id = b.user_id
WHERE b.balance <> coalesce(l.total, 0) OR b.balance <> coalesce(l.last_after, 0);

INSERT INTO violations
SELECT 'points_not_negative', 'user ' || user_id, 'balance ' || balance
FROM point_balances WHERE balance < 0;
INSERT INTO violations
SELECT 'points_not_negative', 'ledger entry ' || id, 'balance_after ' || balance_after
FROM point_ledger WHERE balance_after < 0;

-- 4. Per order: points spent (USE - REFUND) = what its holding payment spent, else nothing.
INSERT INTO violations
SELECT 'points_spent_by_holding_payment_only', 'order ' || o.order_key,
       format('status %s, ledger USE-REFUND %s, holding payment used_point %s',
              o.status, coalesce(l.spent, 0), coalesce(h.used_point, 0))
FROM orders o
LEFT JOIN (
    SELECT order_key,
           sum(CASE kind WHEN 'USE' THEN amount WHEN 'REFUND' THEN -amount ELSE 0 END) AS spent
    FROM point_ledger WHERE order_key IS NOT NULL GROUP BY order_key
) l ON l.order_key = o.order_key
LEFT JOIN holding h ON h.order_id = o.id
WHERE coalesce(l.spent, 0) <> coalesce(h.used_point, 0);

-- 5. Per order: points earned (EARN - EARN_REVOKE) = earned_point while APPROVED, earned_point
--    minus what was taken back once a cancel started, nothing for an order never paid.
INSERT INTO violations
SELECT 'points_earned_by_paid_order_only', 'order ' || o.order_key,
       format('status %s, payment %s, ledger EARN-EARN_REVOKE %s, expected %s',
              o.status, coalesce(p.status, '-'), coalesce(l.earned, 0),
              CASE WHEN p.status = 'APPROVED' THEN o.earned_point
                   WHEN p.status IN ('CANCELING', 'CANCELED') THEN o.earned_point - p.revoked_point
                   ELSE 0 END)
FROM orders o
LEFT JOIN (
    SELECT order_key,
           sum(CASE kind WHEN 'EARN' THEN amount WHEN 'EARN_REVOKE' THEN -amount ELSE 0 END) AS earned
    FROM point_ledger WHERE order_key IS NOT NULL GROUP BY order_key
) l ON l.order_key = o.order_key
LEFT JOIN payments p ON p.order_id = o.id AND p.status IN ('APPROVED', 'CANCELING', 'CANCELED')
WHERE coalesce(l.earned, 0) <> CASE WHEN p.status = 'APPROVED' THEN o.earned_point
                                    WHEN p.status IN ('CANCELING', 'CANCELED') THEN o.earned_point - p.revoked_point
                                    ELSE 0 END;

-- 6. A USED owned coupon belongs to exactly one order, of its owner, that is PAID or whose
--    payment is CONFIRMING, and that order's holding payment names this coupon.
INSERT INTO violations
SELECT 'used_coupon_on_a_paid_or_confirming_order', 'owned coupon ' || c.id,
       format('used on order %s (%s, user %s vs owner %s), holding payment %s with coupon %s',
              coalesce(o.order_key, c.used_order_id::text), coalesce(o.status, 'missing'),
              o.user_id, c.user_id, coalesce(h.status, 'none'), coalesce(h.owned_coupon_id::text, '-'))
FROM owned_coupons c
LEFT JOIN orders o ON o.id = c.used_order_id
LEFT JOIN holding h ON h.order_id = c.used_order_id
WHERE c.status = 'USED'
  AND NOT (o.user_id = c.user_id
           AND h.owned_coupon_id IS NOT DISTINCT FROM c.id
           AND ((o.status = 'PAID' AND h.status IN ('APPROVED', 'CANCELING'))
                OR (o.status = 'CREATED' AND h.status = 'CONFIRMING')));

-- 7. A holding payment's coupon is USED on that very order, and no coupon is held twice.
INSERT INTO violations
SELECT 'held_coupon_is_used_on_its_order', 'payment ' || h.id,
       format('owned coupon %s is %s on order id %s', h.owned_coupon_id, c.status, c.used_order_id)
FROM holding h JOIN owned_coupons c ON c.id = h.owned_coupon_id
WHERE c.status <> 'USED' OR c.used_order_id IS DISTINCT FROM h.order_id;

INSERT INTO violations
SELECT 'coupon_held_once', 'owned coupon ' || owned_coupon_id, count(*) || ' holding payments'
FROM holding WHERE owned_coupon_id IS NOT NULL
GROUP BY owned_coupon_id HAVING count(*) > 1;

-- 8. At most one live payment per order; at most one that ever captured money.
INSERT INTO violations
SELECT 'one_live_payment_per_order', 'order id ' || order_id, string_agg(id || ':' || status, ', ')
FROM payments WHERE status IN ('READY', 'CONFIRMING', 'APPROVED', 'CANCELING')
GROUP BY order_id HAVING count(*) > 1;

INSERT INTO violations
SELECT 'charged_at_most_once', 'order id ' || order_id, string_agg(id || ':' || status, ', ')
FROM payments WHERE status IN ('APPROVED', 'CANCELING', 'CANCELED')
GROUP BY order_id HAVING count(*) > 1;

-- 9. PAID <=> an APPROVED (or CANCELING) payment; CANCELED after payment <=> a CANCELED payment.
INSERT INTO violations
SELECT 'paid_order_has_approved_payment', 'order ' || o.order_key, 'PAID without an APPROVED/CANCELING payment'
FROM orders o
WHERE o.status = 'PAID'
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status IN ('APPROVED', 'CANCELING'));

INSERT INTO violations
SELECT 'approved_payment_has_paid_order', 'payment ' || p.id,
       format('%s payment of a %s order %s', p.status, o.status, o.order_key)
FROM payments p JOIN orders o ON o.id = p.order_id
WHERE p.status IN ('APPROVED', 'CANCELING') AND o.status <> 'PAID';

INSERT INTO violations
SELECT 'refunded_payment_has_canceled_order', 'payment ' || p.id,
       format('CANCELED payment of a %s order %s', o.status, o.order_key)
FROM payments p JOIN orders o ON o.id = p.order_id
WHERE p.status = 'CANCELED' AND o.status <> 'CANCELED';

INSERT INTO violations
SELECT 'canceled_paid_order_was_refunded', 'order ' || o.order_key, 'CANCELED after payment without a CANCELED payment'
FROM orders o
WHERE o.status = 'CANCELED' AND o.paid_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'CANCELED');

-- 10. CONFIRMING <=> the order's payment_in_progress flag, on a CREATED order.
INSERT INTO violations
SELECT 'confirming_flag_matches', 'order ' || o.order_key,
       format('%s, payment_in_progress %s, CONFIRMING payments %s', o.status, o.payment_in_progress,
              (SELECT count(*) FROM payments p WHERE p.order_id = o.id AND p.status = 'CONFIRMING'))
FROM orders o
WHERE o.payment_in_progress
   <> EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'CONFIRMING')
   OR (o.status <> 'CREATED'
       AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'CONFIRMING'));

-- 11. Once settled, nothing is left pending at the gateway.
\if :settled
INSERT INTO violations
SELECT 'nothing_pending_after_reconcile', 'payment ' || p.id,
       format('%s since %s (order %s)', p.status, p.updated_at, o.order_key)
FROM payments p JOIN orders o ON o.id = p.order_id
WHERE p.status IN ('CONFIRMING', 'CANCELING');

-- ... and the outbox relay has published what was written (it runs every second).
INSERT INTO violations
SELECT 'outbox_relayed', 'outbox ' || id, format('%s written %s, not published', topic, created_at)
FROM outbox WHERE published_at IS NULL AND created_at < now() - interval '2 minutes';
\endif

-- 12. A paid order carries its payment's amounts; its lines carry the coupon discount; an order
--     never paid carries none.
INSERT INTO violations
SELECT 'paid_amounts_match_payment', 'order ' || o.order_key,
       format('paid_amount %s/%s, used_point %s/%s, coupon_discount %s/%s, shipping_fee %s/%s (order/payment)',
              o.paid_amount, p.amount, o.used_point, p.used_point, o.coupon_discount, p.coupon_discount,
              o.shipping_fee, p.shipping_fee)
FROM orders o JOIN payments p ON p.order_id = o.id AND p.status IN ('APPROVED', 'CANCELING', 'CANCELED')
WHERE o.paid_amount <> p.amount OR o.used_point <> p.used_point
   OR o.coupon_discount <> p.coupon_discount OR o.shipping_fee <> p.shipping_fee
   OR o.items_total <> p.origin_amount;

INSERT INTO violations
SELECT 'line_discounts_add_up', 'order ' || o.order_key,
       format('coupon_discount %s, sum of line discounts %s', o.coupon_discount, sum(oi.discount))
FROM orders o JOIN order_items oi ON oi.order_id = o.id
WHERE o.paid_at IS NOT NULL
GROUP BY o.id HAVING o.coupon_discount <> sum(oi.discount);

INSERT INTO violations
SELECT 'unpaid_order_has_no_paid_amount', 'order ' || o.order_key,
       format('%s with paid_amount %s, paid_at %s', o.status, o.paid_amount, o.paid_at)
FROM orders o
WHERE o.paid_at IS NULL AND (o.paid_amount <> 0 OR o.status = 'PAID');

-- 13. A paid cart order's cart lines are gone.
INSERT INTO violations
SELECT 'paid_cart_lines_removed', 'order ' || o.order_key, 'cart item ' || ci.id || ' still there'
FROM orders o JOIN cart_items ci ON ci.id = ANY (o.source_cart_item_ids) AND ci.user_id = o.user_id
WHERE o.paid_at IS NOT NULL;

-- 14. The outbox has one event per change: order.paid per paid order, order.canceled per refunded
--     one, order.expired per expired one.
INSERT INTO violations
SELECT 'one_outbox_event_per_change', 'order ' || o.order_key,
       format('%s: order.paid x%s, order.canceled x%s, order.expired x%s', o.status,
              coalesce(e.paid, 0), coalesce(e.canceled, 0), coalesce(e.expired, 0))
FROM orders o
LEFT JOIN (
    SELECT payload ->> 'orderKey' AS order_key,
           count(*) FILTER (WHERE topic = 'order.paid') AS paid,
           count(*) FILTER (WHERE topic = 'order.canceled') AS canceled,
           count(*) FILTER (WHERE topic = 'order.expired') AS expired
    FROM outbox GROUP BY 1
) e ON e.order_key = o.order_key
WHERE coalesce(e.paid, 0) <> (CASE WHEN o.paid_at IS NOT NULL THEN 1 ELSE 0 END)
   OR coalesce(e.canceled, 0) <> (CASE WHEN o.status = 'CANCELED' AND o.paid_at IS NOT NULL THEN 1 ELSE 0 END)
   OR coalesce(e.expired, 0) <> (CASE WHEN o.status = 'EXPIRED' THEN 1 ELSE 0 END);

-- The report: the violations (50 at most, and a count per check), then one summary line.
SELECT count(*) > 0 AS has_violations FROM violations \gset
\if :has_violations
\pset format aligned
SELECT check_name AS "check", subject, detail FROM violations ORDER BY 1, 2 LIMIT 50;
SELECT check_name AS "check", count(*) AS violations FROM violations GROUP BY 1 ORDER BY 1;
\endif

\pset format unaligned
\pset tuples_only on
SELECT format('invariants: %s orders (%s PAID, %s refunded, %s never paid, of which %s EXPIRED), '
              '%s payments, %s pending, %s violations',
    (SELECT count(*) FROM orders),
    (SELECT count(*) FROM orders WHERE status = 'PAID'),
    (SELECT count(*) FROM orders WHERE status = 'CANCELED' AND paid_at IS NOT NULL),
    (SELECT count(*) FROM orders WHERE paid_at IS NULL),
    (SELECT count(*) FROM orders WHERE status = 'EXPIRED'),
    (SELECT count(*) FROM payments),
    (SELECT count(*) FROM payments WHERE status IN ('CONFIRMING', 'CANCELING')),
    (SELECT count(*) FROM violations));

DO $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM violations;
    IF n > 0 THEN
        RAISE EXCEPTION 'invariants: % violation(s)', n;
    END IF;
END $$;

ROLLBACK;
