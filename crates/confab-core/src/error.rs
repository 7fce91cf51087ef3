//! One error type for every layer. Each kind has a stable machine code; each
//! API dialect maps kinds to its own envelope. Internal errors carry their
//! cause for the log, never for the client.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or a value is out of bounds.
    InvalidArgument,
    /// A referenced user, group or record does not exist.
    NotFound,
    /// A unique key already exists (user id taken, already a member, ...).
    Conflict,
    /// The caller is authenticated but may not do this.
    PermissionDenied,
    /// The state forbids it: the owner quitting, a dismissed group, a block.
    FailedPrecondition,
    /// No token, or a token that is not a JWT.
    TokenMalformed,
    /// A token whose signature or claims do not check out.
    TokenInvalid,
    /// A token past its expiry.
    TokenExpired,
    /// A token replaced by a newer login or revoked by force-logout.
    TokenRevoked,
    /// Anything else; the client sees only "internal error".
    Internal,
}

impl ErrorKind {
    /// The stable machine code of this kind, used in logs and docs.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::FailedPrecondition => "failed_precondition",
            ErrorKind::TokenMalformed => "token_malformed",
            ErrorKind::TokenInvalid => "token_invalid",
            ErrorKind::TokenExpired => "token_expired",
            ErrorKind::TokenRevoked => "token_revoked",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A domain error: a kind plus a message meant for the client (except for
/// `Internal`, whose message is for the log only).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, message)
    }
    /// An internal failure; `cause` goes to the log, never to a client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, cause.to_string())
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The text a client may see: the message, or "internal error" for
    /// internal failures, whose detail could leak database or I/O internals.
    pub fn client_message(&self) -> &str {
        match self.kind {
            ErrorKind::Internal => "internal error",
            _ => &self.message,
        }
    }

    /// The full message, for logs.
    pub fn log_message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for Error {}
