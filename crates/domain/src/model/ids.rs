//! Identifiers. Every id is its own type so that a product id can never be passed as an order id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ulid::Ulid;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a stored id. Ids come from the database; the domain never invents them.
            pub const fn new(value: i64) -> Self {
                Self(value)
            }

            pub const fn value(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

numeric_id!(
    /// A buyer or admin, as named by the `sub` claim of their token.
    UserId
);
numeric_id!(
    /// A product of the catalog.
    ProductId
);
numeric_id!(
    /// A line of a user's cart.
    CartItemId
);
numeric_id!(
    /// The internal order id. Never shown to clients: they see the [`OrderKey`].
    OrderId
);
numeric_id!(
    /// A payment attempt of an order. Also the idempotency key sent to the payment gateway.
    PaymentId
);
numeric_id!(
    /// A coupon definition.
    CouponId
);
numeric_id!(
    /// A coupon downloaded by one user.
    OwnedCouponId
);
numeric_id!(
    /// An entry of a user's point ledger.
    PointEntryId
);

/// The public key of an order: a ULID, so it reveals neither how many orders exist nor the
/// internal id, and it sorts by creation time (lists page on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderKey(Ulid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid order key: {0:?}")]
pub struct OrderKeyError(pub String);

impl OrderKey {
    /// A new key for an order created at `now`.
    pub fn generate(now: OffsetDateTime) -> Self {
        Self(Ulid::from_datetime(now.into()))
    }

    pub fn parse(text: &str) -> Result<Self, OrderKeyError> {
        Ulid::from_string(text)
            .map(Self)
            .map_err(|_| OrderKeyError(text.to_owned()))
    }
}

impl FromStr for OrderKey {
    type Err = OrderKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for OrderKey {
    type Error = OrderKeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrderKey> for String {
    fn from(key: OrderKey) -> String {
        key.0.to_string()
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The key the payment gateway gave the buyer's payment (Toss `paymentKey`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payment key must be 1 to 200 visible ASCII characters")]
pub struct PaymentKeyError;

impl PaymentKey {
    pub fn new(key: impl Into<String>) -> Result<Self, PaymentKeyError> {
        let key = key.into();
        let valid =
            !key.is_empty() && key.len() <= 200 && key.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(key))
        } else {
            Err(PaymentKeyError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PaymentKey {
    type Error = PaymentKeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PaymentKey> for String {
    fn from(key: PaymentKey) -> String {
        key.0
    }
}

impl fmt::Display for PaymentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_round_trip_and_sort_by_time() {
        let earlier = OrderKey::generate(OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1));
        let later = OrderKey::generate(OffsetDateTime::UNIX_EPOCH + time::Duration::hours(2));
        assert!(earlier < later);
        assert!(earlier.to_string() < later.to_string());
        assert_eq!(OrderKey::parse(&later.to_string()), Ok(later));
        assert!(OrderKey::parse("not-a-key").is_err());
    }

    #[test]
    fn payment_keys_are_visible_ascii() {
        assert!(PaymentKey::new("tgen_20240101").is_ok());
        assert!(PaymentKey::new("").is_err());
        assert!(PaymentKey::new("has space").is_err());
        assert!(PaymentKey::new("x".repeat(201)).is_err());
    }
}
