DROP TABLE owned_coupons;
DROP TABLE coupon_products;
DROP TABLE coupons;
