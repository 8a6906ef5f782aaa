//! The tables of `migrations/`, in diesel's `table!` form. Written by hand: keep it in step with
//! every migration (the migration tests load a row of each table through these definitions).

diesel::table! {
    products (id) {
        id -> Int8,
        name -> Text,
        thumbnail_url -> Nullable<Text>,
        short_description -> Nullable<Text>,
        price -> Int8,
        selling_price -> Int8,
        stock -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cart_items (id) {
        id -> Int8,
        user_id -> Int8,
        product_id -> Int8,
        quantity -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Int8,
        order_key -> Text,
        user_id -> Int8,
        name -> Text,
        status -> Text,
        items_total -> Int8,
        shipping_fee -> Int8,
        coupon_discount -> Int8,
        used_point -> Int8,
        paid_amount -> Int8,
        earned_point -> Int8,
        ship_recipient -> Nullable<Text>,
        ship_phone -> Nullable<Text>,
        ship_zip_code -> Nullable<Text>,
        ship_address1 -> Nullable<Text>,
        ship_address2 -> Nullable<Text>,
        source_cart_item_ids -> Array<Int8>,
        payment_in_progress -> Bool,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        canceled_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_items (order_id, line_no) {
        order_id -> Int8,
        line_no -> Int4,
        product_id -> Int8,
        product_name -> Text,
        thumbnail_url -> Nullable<Text>,
        unit_price -> Int8,
        quantity -> Int4,
        line_total -> Int8,
        discount -> Int8,
    }
}

diesel::table! {
    coupons (id) {
        id -> Int8,
        name -> Text,
        kind -> Text,
        amount -> Nullable<Int8>,
        percent -> Nullable<Int2>,
        max_discount -> Nullable<Int8>,
        min_order_amount -> Int8,
        valid_until -> Timestamptz,
        issue_limit -> Nullable<Int4>,
        issued_count -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    coupon_products (coupon_id, product_id) {
        coupon_id -> Int8,
        product_id -> Int8,
    }
}

diesel::table! {
    owned_coupons (id) {
        id -> Int8,
        user_id -> Int8,
        coupon_id -> Int8,
        status -> Text,
        used_order_id -> Nullable<Int8>,
        issued_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    payments (id) {
        id -> Int8,
        order_id -> Int8,
        status -> Text,
        origin_amount -> Int8,
        owned_coupon_id -> Nullable<Int8>,
        coupon_discount -> Int8,
        used_point -> Int8,
        shipping_fee -> Int8,
        amount -> Int8,
        payment_key -> Nullable<Text>,
        method -> Nullable<Text>,
        approved_at -> Nullable<Timestamptz>,
        failure_code -> Nullable<Text>,
        failure_message -> Nullable<Text>,
        cancel_amount -> Nullable<Int8>,
        revoked_point -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        checked_at -> Timestamptz,
    }
}

diesel::table! {
    point_balances (user_id) {
        user_id -> Int8,
        balance -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    point_ledger (id) {
        id -> Int8,
        user_id -> Int8,
        kind -> Text,
        amount -> Int8,
        balance_after -> Int8,
        order_key -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_records (user_id, idempotency_key) {
        user_id -> Int8,
        idempotency_key -> Text,
        fingerprint -> Text,
        response_status -> Nullable<Int4>,
        response_content_type -> Nullable<Text>,
        response_body -> Nullable<Bytea>,
        created_at -> Timestamptz,
        locked_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        topic -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
        claimed_until -> Nullable<Timestamptz>,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(cart_items -> products (product_id));
diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(order_items -> products (product_id));
diesel::joinable!(coupon_products -> coupons (coupon_id));
diesel::joinable!(coupon_products -> products (product_id));
diesel::joinable!(owned_coupons -> coupons (coupon_id));
diesel::joinable!(owned_coupons -> orders (used_order_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(payments -> owned_coupons (owned_coupon_id));
diesel::joinable!(point_ledger -> point_balances (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    products,
    cart_items,
    orders,
    order_items,
    coupons,
    coupon_products,
    owned_coupons,
    payments,
    point_balances,
    point_ledger,
    idempotency_records,
    outbox,
);
