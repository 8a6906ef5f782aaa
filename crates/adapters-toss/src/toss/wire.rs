//! The JSON shapes of the Toss Payments v1 API that this client sends and reads. Only the fields
//! we use are declared; Toss adds fields freely, and serde ignores the rest.

use serde::{Deserialize, Serialize};

/// `POST /v1/payments/confirm`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfirmBody<'a> {
    pub payment_key: &'a str,
    /// Our order key: the buyer paid at Toss with `orderId = orderKey`.
    pub order_id: &'a str,
    pub amount: i64,
}

/// `POST /v1/payments/{paymentKey}/cancel`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelBody<'a> {
    pub cancel_reason: &'a str,
    pub cancel_amount: i64,
}

/// The parts of Toss's `Payment` object we read (the answer to confirm, cancel and look-up).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaymentObject {
    #[serde(default)]
    pub payment_key: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub method: Option<String>,
    /// RFC 3339 with an offset, e.g. `2024-02-13T12:18:14+09:00`.
    #[serde(default)]
    pub approved_at: Option<String>,
    /// Why an ABORTED or EXPIRED payment failed.
    #[serde(default)]
    pub failure: Option<ErrorBody>,
}

/// Toss's error object, the body of every 4xx and 5xx: `{code, message}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// `Payment.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TossStatus {
    Ready,
    InProgress,
    WaitingForDeposit,
    Done,
    Canceled,
    PartialCanceled,
    Aborted,
    Expired,
}

impl TossStatus {
    /// `None` for a status this client does not know (Toss may add some).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "READY" => Self::Ready,
            "IN_PROGRESS" => Self::InProgress,
            "WAITING_FOR_DEPOSIT" => Self::WaitingForDeposit,
            "DONE" => Self::Done,
            "CANCELED" => Self::Canceled,
            "PARTIAL_CANCELED" => Self::PartialCanceled,
            "ABORTED" => Self::Aborted,
            "EXPIRED" => Self::Expired,
            _ => return None,
        })
    }
}
