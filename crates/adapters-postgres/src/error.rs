//! The error story of this adapter.
//!
//! * Inside a transaction, a closure returns [`TxError`]: either the port's typed conflict
//!   (`Conflict`), which rolls the transaction back and reaches the caller unchanged, or a
//!   database or mapping failure.
//! * Outside, database failures become `anyhow::Error` through [`db_error`], which marks the
//!   ones meaning "unreachable or saturated" with [`StoreUnavailable`] (HTTP 503).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::ports::StoreUnavailable;

/// What a transaction closure fails with. diesel-async's `transaction` needs
/// `From<diesel::result::Error>`, which the ports' error enums do not (and should not) have.
#[derive(Debug)]
pub(crate) enum TxError<E> {
    /// A conflict the port reports as a typed error; the transaction rolls back.
    Conflict(E),
    Db(DieselError),
    Other(anyhow::Error),
}

impl<E> From<DieselError> for TxError<E> {
    fn from(error: DieselError) -> Self {
        TxError::Db(error)
    }
}

impl<E> From<anyhow::Error> for TxError<E> {
    fn from(error: anyhow::Error) -> Self {
        TxError::Other(error)
    }
}

impl<E: From<anyhow::Error>> TxError<E> {
    /// The port's error: the conflict itself, or `Unknown` for anything else.
    pub(crate) fn into_port_error(self) -> E {
        match self {
            TxError::Conflict(error) => error,
            TxError::Db(error) => E::from(db_error(error)),
            TxError::Other(error) => E::from(error),
        }
    }
}

/// Messages of PostgreSQL errors that mean "try again later" rather than "bug": the server is
/// restarting or overloaded, or a statement ran into `statement_timeout`. (diesel does not expose
/// the SQLSTATE of these, only the message.)
const UNAVAILABLE_MESSAGES: [&str; 6] = [
    "canceling statement due to statement timeout",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "sorry, too many clients already",
];

/// Turns a diesel error into an `anyhow::Error`, marked [`StoreUnavailable`] when the database
/// cannot be reached or is saturated.
pub(crate) fn db_error(error: DieselError) -> anyhow::Error {
    let unavailable = match &error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => UNAVAILABLE_MESSAGES
            .iter()
            .any(|message| info.message().starts_with(message)),
        _ => false,
    };
    if unavailable {
        anyhow::Error::new(StoreUnavailable(error.to_string()))
    } else {
        anyhow::Error::new(error)
    }
}

/// The kind and constraint name of a database error, if it broke a constraint.
pub(crate) fn violated_constraint(error: &DieselError) -> Option<(DatabaseErrorKind, &str)> {
    match error {
        DieselError::DatabaseError(kind, info) => info.constraint_name().map(|name| (*kind, name)),
        _ => None,
    }
}
