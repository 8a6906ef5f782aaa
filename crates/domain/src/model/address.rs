//! The shipping address a buyer gives when requesting payment; snapshotted on the order.

use serde::{Deserialize, Serialize};

/// A validated shipping address. Fields are trimmed; all but `address2` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    recipient: String,
    phone: String,
    zip_code: String,
    address1: String,
    address2: Option<String>,
}

/// Which field of an address is invalid, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("phone must be 9 to 20 digits, optionally separated by '-'")]
    Phone,
    #[error("zipCode must be 5 digits")]
    ZipCode,
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
}

fn required(field: &'static str, value: &str, max: usize) -> Result<String, AddressError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AddressError::Missing { field });
    }
    if super::has_control_chars(value) {
        return Err(AddressError::ControlCharacter { field });
    }
    if value.chars().count() > max {
        return Err(AddressError::TooLong { field, max });
    }
    Ok(value.to_owned())
}

impl ShippingAddress {
    pub fn new(
        recipient: &str,
        phone: &str,
        zip_code: &str,
        address1: &str,
        address2: Option<&str>,
    ) -> Result<Self, AddressError> {
        let recipient = required("recipient", recipient, 50)?;
        let phone = required("phone", phone, 20)?;
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(9..=20).contains(&digits) || !phone.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(AddressError::Phone);
        }
        let zip_code = required("zipCode", zip_code, 5)?;
        if zip_code.len() != 5 || !zip_code.chars().all(|c| c.is_ascii_digit()) {
            return Err(AddressError::ZipCode);
        }
        let address1 = required("address1", address1, 200)?;
        let address2 = match address2.map(str::trim).filter(|s| !s.is_empty()) {
            Some(line) => Some(required("address2", line, 200)?),
            None => None,
        };
        Ok(Self {
            recipient,
            phone,
            zip_code,
            address1,
            address2,
        })
    }

    pub fn recipient(&self) -> &str {
        &self.recipient
    }
    pub fn phone(&self) -> &str {
        &self.phone
    }
    pub fn zip_code(&self) -> &str {
        &self.zip_code
    }
    pub fn address1(&self) -> &str {
        &self.address1
    }
    pub fn address2(&self) -> Option<&str> {
        self.address2.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_address_is_trimmed() {
        let a = ShippingAddress::new(
            " 홍길동 ",
            "010-1234-5678",
            "06236",
            "서울 강남구 테헤란로 1",
            Some(" "),
        )
        .unwrap();
        assert_eq!(a.recipient(), "홍길동");
        assert_eq!(a.address2(), None);
    }

    #[test]
    fn each_field_is_checked() {
        assert_eq!(
            ShippingAddress::new("", "010-1234-5678", "06236", "a", None),
            Err(AddressError::Missing { field: "recipient" })
        );
        assert_eq!(
            ShippingAddress::new("a", "12ab", "06236", "a", None),
            Err(AddressError::Phone)
        );
        assert_eq!(
            ShippingAddress::new("a", "010-1234-5678", "6236", "a", None),
            Err(AddressError::ZipCode)
        );
        assert_eq!(
            ShippingAddress::new("a\u{0}b", "010-1234-5678", "06236", "a", None),
            Err(AddressError::ControlCharacter { field: "recipient" })
        );
        assert_eq!(
            ShippingAddress::new("a", "010-1234-5678", "06236", " ", None),
            Err(AddressError::Missing { field: "address1" })
        );
    }
}
