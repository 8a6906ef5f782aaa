//! Toss's answers → the port's outcomes.
//!
//! Pure functions of (HTTP status, body), so every row of the table is unit-tested without a
//! server. The rule behind every row: an outcome is definite (`Approved`, `Declined`, `Canceled`,
//! `Rejected`, `NotConfirmed`) only when Toss itself said so in a body we could read; anything
//! else is `Unknown`, and the domain's reconciler asks again later. A wrong `Declined` would
//! release an order whose buyer was charged; a wrong `Unknown` only delays it.

use domain::model::PaymentFailure;
use domain::ports::{CancelOutcome, GatewayApproval, GatewayOutcome, LookupOutcome};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::wire::{ErrorBody, PaymentObject, TossStatus};

/// A confirm that Toss already processed: a previous identical confirm reached it.
pub(crate) const ALREADY_PROCESSED_PAYMENT: &str = "ALREADY_PROCESSED_PAYMENT";
/// A cancel of a payment that is already refunded: what we asked for is done.
pub(crate) const ALREADY_CANCELED_PAYMENT: &str = "ALREADY_CANCELED_PAYMENT";

/// Error codes Toss documents as temporary ("잠시 후 다시 시도해주세요") or as a failure inside
/// Toss, the card company or the bank. The request may or may not have been processed, so the
/// answer is unknown even when the HTTP status is a 4xx.
const RETRYABLE_CODES: &[&str] = &[
    "PROVIDER_ERROR",
    "COMMON_ERROR",
    "CARD_PROCESSING_ERROR",
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
    "FAILED_INTERNAL_SYSTEM_PROCESSING",
    "UNKNOWN_PAYMENT_ERROR",
    "FAILED_REFUND_PROCESS",
    "FAILED_METHOD_HANDLING_CANCEL",
    "FORBIDDEN_CONSECUTIVE_REQUEST",
];

/// Codes a look-up answers (with 404) when Toss has no payment for the order.
const NOT_FOUND_CODES: &[&str] = &["NOT_FOUND_PAYMENT", "NOT_FOUND"];

/// Codes that mean our secret key is wrong: an operator problem, not the buyer's.
const AUTH_CODES: &[&str] = &[
    "UNAUTHORIZED_KEY",
    "INVALID_API_KEY",
    "INCORRECT_BASIC_AUTH_FORMAT",
];

/// The method recorded when an approved payment's body does not name one.
const UNKNOWN_METHOD: &str = "UNKNOWN";

/// How an HTTP status is read before the body is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    Success,
    /// A definite refusal, if the body is Toss's `{code, message}`.
    ClientError,
    /// Says nothing about what happened: 5xx, 408 (timeout), 409 (a request with this
    /// idempotency key is still being processed), 425/429 (try later), and 1xx/3xx.
    Indeterminate,
}

fn classify(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Success,
        408 | 409 | 425 | 429 => StatusClass::Indeterminate,
        400..=499 => StatusClass::ClientError,
        _ => StatusClass::Indeterminate,
    }
}

/// Whether Toss refused our credentials (worth an operator's attention, whatever the outcome).
pub(crate) fn is_auth_failure(status: u16, body: &[u8]) -> bool {
    status == 401 || parse::<ErrorBody>(body).is_some_and(|e| AUTH_CODES.contains(&e.code.as_str()))
}

fn is_retryable(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

/// The payment a request was about. A 2xx answer about another payment proves nothing about
/// ours: Toss replays the first answer for an idempotency key for 15 days, so a key reused by
/// another database (a reset dev database, a second environment on the same secret key) would
/// otherwise read as our payment being approved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    pub payment_key: &'a str,
    /// Our order key; `None` when the request did not name the order (cancel).
    pub order_id: Option<&'a str>,
}

impl Asked<'_> {
    /// Why `payment` is not the one asked about, if it is not.
    fn mismatch(&self, payment: &PaymentObject) -> Option<String> {
        if let Some(found) = payment.payment_key.as_deref()
            && found != self.payment_key
        {
            return Some(format!("the answer is about payment {found}"));
        }
        if let (Some(asked), Some(found)) = (self.order_id, payment.order_id.as_deref())
            && asked != found
        {
            return Some(format!("the answer is about order {found}"));
        }
        None
    }
}

/// What a confirm answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfirmReply {
    Outcome(GatewayOutcome),
    /// `ALREADY_PROCESSED_PAYMENT`: an earlier identical confirm reached Toss. Only a look-up can
    /// say whether it was approved.
    AlreadyProcessed,
}

/// Maps the answer to `POST /v1/payments/confirm`.
pub(crate) fn confirm(
    status: u16,
    body: &[u8],
    asked: Asked<'_>,
    received_at: OffsetDateTime,
) -> ConfirmReply {
    let outcome = match classify(status) {
        StatusClass::Success => match read_payment(status, body, asked) {
            Err(reason) => GatewayOutcome::Unknown(reason),
            Ok(payment) => match TossStatus::parse(&payment.status) {
                Some(TossStatus::Done) => GatewayOutcome::Approved(approval(&payment, received_at)),
                Some(TossStatus::Aborted | TossStatus::Expired) => {
                    GatewayOutcome::Declined(payment_failure(&payment))
                }
                _ => GatewayOutcome::Unknown(format!(
                    "the confirm answered status {}",
                    payment.status
                )),
            },
        },
        StatusClass::ClientError => match parse::<ErrorBody>(body) {
            None => GatewayOutcome::Unknown(unreadable(status)),
            Some(error) if error.code == ALREADY_PROCESSED_PAYMENT => {
                return ConfirmReply::AlreadyProcessed;
            }
            Some(error) if is_retryable(&error.code) => {
                GatewayOutcome::Unknown(describe(status, &error))
            }
            Some(error) => GatewayOutcome::Declined(failure(error)),
        },
        StatusClass::Indeterminate => GatewayOutcome::Unknown(indeterminate(status, body)),
    };
    ConfirmReply::Outcome(outcome)
}

/// Resolves `ALREADY_PROCESSED_PAYMENT` with what a look-up found: approved only when Toss says
/// the payment is DONE; anything else is left to the reconciler.
pub(crate) fn resolve_already_processed(lookup: LookupOutcome) -> GatewayOutcome {
    match lookup {
        LookupOutcome::Approved(approval) => GatewayOutcome::Approved(approval),
        LookupOutcome::Declined(failure) => GatewayOutcome::Unknown(format!(
            "{ALREADY_PROCESSED_PAYMENT}, and the look-up found it failed ({})",
            failure.code
        )),
        LookupOutcome::Canceled => GatewayOutcome::Unknown(format!(
            "{ALREADY_PROCESSED_PAYMENT}, and the look-up found it canceled"
        )),
        LookupOutcome::NotConfirmed => GatewayOutcome::Unknown(format!(
            "{ALREADY_PROCESSED_PAYMENT}, but the look-up found no confirmed payment"
        )),
        LookupOutcome::Unknown(reason) => GatewayOutcome::Unknown(format!(
            "{ALREADY_PROCESSED_PAYMENT}, and the look-up failed: {reason}"
        )),
    }
}

/// Maps the answer to `POST /v1/payments/{paymentKey}/cancel`.
pub(crate) fn cancel(status: u16, body: &[u8], asked: Asked<'_>) -> CancelOutcome {
    match classify(status) {
        StatusClass::Success => match read_payment(status, body, asked) {
            Err(reason) => CancelOutcome::Unknown(reason),
            Ok(payment) => match TossStatus::parse(&payment.status) {
                Some(TossStatus::Canceled | TossStatus::PartialCanceled) => CancelOutcome::Canceled,
                _ => {
                    CancelOutcome::Unknown(format!("the cancel answered status {}", payment.status))
                }
            },
        },
        StatusClass::ClientError => match parse::<ErrorBody>(body) {
            None => CancelOutcome::Unknown(unreadable(status)),
            Some(error) if error.code == ALREADY_CANCELED_PAYMENT => CancelOutcome::Canceled,
            Some(error) if is_retryable(&error.code) => {
                CancelOutcome::Unknown(describe(status, &error))
            }
            Some(error) => CancelOutcome::Rejected(failure(error)),
        },
        StatusClass::Indeterminate => CancelOutcome::Unknown(indeterminate(status, body)),
    }
}

/// What a look-up answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupReply {
    Outcome(LookupOutcome),
    /// Toss answered about another payment of the same order id (an earlier attempt): it says
    /// nothing about the payment asked for, which must be looked up by its own key.
    OtherPayment(String),
}

/// Maps the answer to `GET /v1/payments/orders/{orderId}` or `GET /v1/payments/{paymentKey}`,
/// for the payment asked about.
pub(crate) fn lookup(
    status: u16,
    body: &[u8],
    asked: Asked<'_>,
    received_at: OffsetDateTime,
) -> LookupReply {
    let outcome = match classify(status) {
        StatusClass::Success => match parse::<PaymentObject>(body) {
            None => LookupOutcome::Unknown(unreadable(status)),
            Some(payment) => {
                if let Some(found) = payment.payment_key.as_deref()
                    && found != asked.payment_key
                {
                    return LookupReply::OtherPayment(found.to_owned());
                }
                match asked.mismatch(&payment) {
                    Some(reason) => LookupOutcome::Unknown(reason),
                    None => lookup_status(&payment, received_at),
                }
            }
        },
        StatusClass::ClientError => match parse::<ErrorBody>(body) {
            Some(error) if status == 404 && NOT_FOUND_CODES.contains(&error.code.as_str()) => {
                LookupOutcome::NotConfirmed
            }
            // A look-up refused for any other reason (a bad key, a bad request) says nothing
            // about the payment.
            Some(error) => LookupOutcome::Unknown(describe(status, &error)),
            None => LookupOutcome::Unknown(unreadable(status)),
        },
        StatusClass::Indeterminate => LookupOutcome::Unknown(indeterminate(status, body)),
    };
    LookupReply::Outcome(outcome)
}

/// A 2xx body: the payment asked about, or why the answer cannot be trusted.
fn read_payment(status: u16, body: &[u8], asked: Asked<'_>) -> Result<PaymentObject, String> {
    let payment = parse::<PaymentObject>(body).ok_or_else(|| unreadable(status))?;
    match asked.mismatch(&payment) {
        Some(reason) => Err(reason),
        None => Ok(payment),
    }
}

fn lookup_status(payment: &PaymentObject, received_at: OffsetDateTime) -> LookupOutcome {
    match TossStatus::parse(&payment.status) {
        Some(TossStatus::Done) => LookupOutcome::Approved(approval(payment, received_at)),
        Some(TossStatus::Canceled | TossStatus::PartialCanceled) => LookupOutcome::Canceled,
        Some(TossStatus::Aborted | TossStatus::Expired) => {
            LookupOutcome::Declined(payment_failure(payment))
        }
        Some(TossStatus::Ready | TossStatus::InProgress | TossStatus::WaitingForDeposit) => {
            LookupOutcome::NotConfirmed
        }
        None => LookupOutcome::Unknown(format!("unknown payment status {}", payment.status)),
    }
}

/// The approval of a DONE payment. A DONE payment is captured whatever else its body says, so a
/// missing method or an unreadable `approvedAt` is recorded as `UNKNOWN` / the time we received
/// the answer, rather than left unknown (a look-up would read the same body again).
fn approval(payment: &PaymentObject, received_at: OffsetDateTime) -> GatewayApproval {
    let method = payment
        .method
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| UNKNOWN_METHOD.to_owned());
    let parsed = payment
        .approved_at
        .as_deref()
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok());
    let approved_at = parsed.unwrap_or_else(|| {
        tracing::warn!(
            approved_at = ?payment.approved_at,
            "a DONE payment without a readable approvedAt; using the time of the answer"
        );
        received_at
    });
    GatewayApproval {
        method,
        approved_at,
    }
}

/// Why an ABORTED or EXPIRED payment failed: Toss's `failure` when it gives one, else the status.
fn payment_failure(payment: &PaymentObject) -> PaymentFailure {
    match &payment.failure {
        Some(error) => PaymentFailure {
            code: error.code.clone(),
            message: message_or_code(&error.message, &error.code),
        },
        None => PaymentFailure {
            code: payment.status.clone(),
            message: format!("the payment is {} at Toss Payments", payment.status),
        },
    }
}

fn failure(error: ErrorBody) -> PaymentFailure {
    let message = message_or_code(&error.message, &error.code);
    PaymentFailure {
        code: error.code,
        message,
    }
}

fn message_or_code(message: &str, code: &str) -> String {
    if message.trim().is_empty() {
        code.to_owned()
    } else {
        message.to_owned()
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

fn describe(status: u16, error: &ErrorBody) -> String {
    format!("HTTP {status} {}: {}", error.code, error.message)
}

fn unreadable(status: u16) -> String {
    format!("HTTP {status} with a body that is not Toss's JSON")
}

fn indeterminate(status: u16, body: &[u8]) -> String {
    match parse::<ErrorBody>(body) {
        Some(error) => describe(status, &error),
        None => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &str = "tgen_20240213121757MvuS8";
    const ORDER: &str = "01HPZ8Q6Y8D3J4K5M6N7P8Q9RS";
    const NOW: OffsetDateTime = datetime!(2024-02-13 03:20:00 UTC);
    const ASKED: Asked<'static> = Asked {
        payment_key: KEY,
        order_id: Some(ORDER),
    };

    fn payment(status: &str) -> Vec<u8> {
        serde_json::json!({
            "paymentKey": KEY,
            "orderId": ORDER,
            "status": status,
            "method": "카드",
            "approvedAt": "2024-02-13T12:18:14+09:00",
            "totalAmount": 15000
        })
        .to_string()
        .into_bytes()
    }

    fn error(code: &str, message: &str) -> Vec<u8> {
        serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes()
    }

    fn approved() -> GatewayApproval {
        GatewayApproval {
            method: "카드".to_owned(),
            approved_at: datetime!(2024-02-13 12:18:14 +09:00),
        }
    }

    fn declined(code: &str, message: &str) -> PaymentFailure {
        PaymentFailure {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    fn confirmed(status: u16, body: &[u8]) -> GatewayOutcome {
        match confirm(status, body, ASKED, NOW) {
            ConfirmReply::Outcome(outcome) => outcome,
            ConfirmReply::AlreadyProcessed => panic!("unexpected AlreadyProcessed"),
        }
    }

    fn looked_up(status: u16, body: &[u8]) -> LookupOutcome {
        match lookup(status, body, ASKED, NOW) {
            LookupReply::Outcome(outcome) => outcome,
            LookupReply::OtherPayment(key) => panic!("unexpected other payment {key}"),
        }
    }

    #[test]
    fn confirm_done_is_approved_with_method_and_time() {
        assert_eq!(
            confirmed(200, &payment("DONE")),
            GatewayOutcome::Approved(approved())
        );
    }

    #[test]
    fn confirm_refusals_are_declined_with_tosss_code_and_message() {
        for (status, code) in [
            (403, "REJECT_CARD_PAYMENT"),
            (400, "INVALID_CARD_EXPIRATION"),
            (404, "NOT_FOUND_PAYMENT_SESSION"),
            (401, "UNAUTHORIZED_KEY"),
        ] {
            assert_eq!(
                confirmed(status, &error(code, "거절")),
                GatewayOutcome::Declined(declined(code, "거절")),
                "{status} {code}"
            );
        }
    }

    #[test]
    fn confirm_already_processed_needs_a_look_up() {
        let body = error(ALREADY_PROCESSED_PAYMENT, "이미 처리된 결제 입니다.");
        assert_eq!(
            confirm(400, &body, ASKED, NOW),
            ConfirmReply::AlreadyProcessed
        );
    }

    #[test]
    fn confirm_answers_that_prove_nothing_are_unknown() {
        let cases: Vec<(u16, Vec<u8>)> = vec![
            (500, error("FAILED_INTERNAL_SYSTEM_PROCESSING", "내부 오류")),
            (502, b"<html>bad gateway</html>".to_vec()),
            (503, Vec::new()),
            (429, error("TOO_MANY_REQUESTS", "too many")),
            (409, error("IDEMPOTENT_REQUEST_PROCESSING", "in progress")),
            (408, Vec::new()),
            (400, error("PROVIDER_ERROR", "일시적인 오류")),
            (400, error("CARD_PROCESSING_ERROR", "카드사 오류")),
            (403, b"<html>forbidden by a proxy</html>".to_vec()),
            (302, Vec::new()),
            (200, b"not json".to_vec()),
            (200, payment("IN_PROGRESS")),
            (200, payment("WAITING_FOR_DEPOSIT")),
            (200, payment("SOMETHING_NEW")),
        ];
        for (status, body) in cases {
            assert!(
                matches!(confirmed(status, &body), GatewayOutcome::Unknown(_)),
                "{status} {}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[test]
    fn unknown_reasons_are_short_and_name_the_code() {
        assert_eq!(
            confirmed(500, &error("UNKNOWN_PAYMENT_ERROR", "결제에 실패했어요")),
            GatewayOutcome::Unknown("HTTP 500 UNKNOWN_PAYMENT_ERROR: 결제에 실패했어요".into())
        );
        assert_eq!(
            confirmed(503, b"<html/>"),
            GatewayOutcome::Unknown("HTTP 503".into())
        );
    }

    #[test]
    fn confirm_aborted_in_a_2xx_is_declined_with_the_failure() {
        let body = serde_json::json!({
            "paymentKey": KEY, "status": "ABORTED",
            "failure": { "code": "COMMON_ERROR", "message": "일시적인 오류" }
        })
        .to_string();
        assert_eq!(
            confirmed(200, body.as_bytes()),
            GatewayOutcome::Declined(declined("COMMON_ERROR", "일시적인 오류"))
        );
    }

    #[test]
    fn a_done_payment_with_odd_fields_is_still_approved() {
        let body =
            serde_json::json!({ "paymentKey": KEY, "status": "DONE", "approvedAt": "yesterday" })
                .to_string();
        assert_eq!(
            confirmed(200, body.as_bytes()),
            GatewayOutcome::Approved(GatewayApproval {
                method: UNKNOWN_METHOD.to_owned(),
                approved_at: NOW,
            })
        );
    }

    #[test]
    fn already_processed_resolves_to_approved_only_when_done() {
        assert_eq!(
            resolve_already_processed(LookupOutcome::Approved(approved())),
            GatewayOutcome::Approved(approved())
        );
        for other in [
            LookupOutcome::NotConfirmed,
            LookupOutcome::Canceled,
            LookupOutcome::Declined(declined("EXPIRED", "x")),
            LookupOutcome::Unknown("HTTP 500".into()),
        ] {
            assert!(matches!(
                resolve_already_processed(other),
                GatewayOutcome::Unknown(_)
            ));
        }
    }

    #[test]
    fn cancel_mapping() {
        assert_eq!(
            cancel(200, &payment("CANCELED"), ASKED),
            CancelOutcome::Canceled
        );
        assert_eq!(
            cancel(200, &payment("PARTIAL_CANCELED"), ASKED),
            CancelOutcome::Canceled
        );
        assert_eq!(
            cancel(
                400,
                &error(ALREADY_CANCELED_PAYMENT, "이미 취소된 결제 입니다."),
                ASKED
            ),
            CancelOutcome::Canceled
        );
        assert_eq!(
            cancel(
                403,
                &error("NOT_CANCELABLE_PAYMENT", "취소 할 수 없는 결제 입니다."),
                ASKED
            ),
            CancelOutcome::Rejected(declined(
                "NOT_CANCELABLE_PAYMENT",
                "취소 할 수 없는 결제 입니다."
            ))
        );
        assert_eq!(
            cancel(404, &error("NOT_FOUND_PAYMENT", ""), ASKED),
            CancelOutcome::Rejected(declined("NOT_FOUND_PAYMENT", "NOT_FOUND_PAYMENT"))
        );
        for (status, body) in [
            (500, error("FAILED_REFUND_PROCESS", "환불 실패")),
            (403, error("FORBIDDEN_CONSECUTIVE_REQUEST", "반복적인 요청")),
            (429, Vec::new()),
            (400, b"oops".to_vec()),
            (200, payment("DONE")),
            (200, b"{}".to_vec()),
        ] {
            assert!(
                matches!(cancel(status, &body, ASKED), CancelOutcome::Unknown(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn lookup_mapping() {
        assert_eq!(
            looked_up(200, &payment("DONE")),
            LookupOutcome::Approved(approved())
        );
        for status in ["CANCELED", "PARTIAL_CANCELED"] {
            assert_eq!(looked_up(200, &payment(status)), LookupOutcome::Canceled);
        }
        for status in ["ABORTED", "EXPIRED"] {
            assert_eq!(
                looked_up(200, &payment(status)),
                LookupOutcome::Declined(declined(
                    status,
                    &format!("the payment is {status} at Toss Payments")
                ))
            );
        }
        for status in ["READY", "IN_PROGRESS", "WAITING_FOR_DEPOSIT"] {
            assert_eq!(
                looked_up(200, &payment(status)),
                LookupOutcome::NotConfirmed
            );
        }
        assert_eq!(
            looked_up(
                404,
                &error("NOT_FOUND_PAYMENT", "존재하지 않는 결제 입니다.")
            ),
            LookupOutcome::NotConfirmed
        );
        for (status, body) in [
            (404, b"<html>not found</html>".to_vec()),
            (401, error("UNAUTHORIZED_KEY", "bad key")),
            (400, error("INVALID_REQUEST", "bad")),
            (500, error("FAILED_INTERNAL_SYSTEM_PROCESSING", "x")),
            (429, Vec::new()),
            (200, b"[]".to_vec()),
            (200, payment("SOMETHING_NEW")),
        ] {
            assert!(
                matches!(looked_up(status, &body), LookupOutcome::Unknown(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn a_2xx_about_another_payment_proves_nothing() {
        // E.g. Toss replaying the answer to an idempotency key another database used first.
        let other_key =
            serde_json::json!({ "paymentKey": "tgen_other", "orderId": ORDER, "status": "DONE" })
                .to_string();
        let other_order = serde_json::json!({ "paymentKey": KEY, "orderId": "01HQ0000000000000000000000", "status": "DONE" })
            .to_string();
        for body in [&other_key, &other_order] {
            assert!(matches!(
                confirmed(200, body.as_bytes()),
                GatewayOutcome::Unknown(_)
            ));
        }
        let canceled_other =
            serde_json::json!({ "paymentKey": "tgen_other", "status": "CANCELED" }).to_string();
        assert!(matches!(
            cancel(200, canceled_other.as_bytes(), ASKED),
            CancelOutcome::Unknown(_)
        ));
        assert!(matches!(
            looked_up(200, other_order.as_bytes()),
            LookupOutcome::Unknown(_)
        ));
    }

    #[test]
    fn auth_failures_are_recognised() {
        assert!(is_auth_failure(401, b""));
        assert!(is_auth_failure(400, &error("INVALID_API_KEY", "x")));
        assert!(!is_auth_failure(403, &error("REJECT_CARD_PAYMENT", "x")));
    }

    #[test]
    fn lookup_of_another_attempt_is_not_taken_for_ours() {
        let other =
            serde_json::json!({ "paymentKey": "tgen_other", "status": "ABORTED" }).to_string();
        assert_eq!(
            lookup(200, other.as_bytes(), ASKED, NOW),
            LookupReply::OtherPayment("tgen_other".into())
        );
    }
}
