//! Confab's domain: ids, users, relations, groups, their errors and the
//! storage traits the service layer is written against. Nothing here does I/O.

pub mod bus;
pub mod error;
pub mod ids;
pub mod message;
pub mod model;
pub mod presence;
pub mod store;
pub mod validate;
pub mod versions;

pub use error::{Error, ErrorKind, Field, Result};
pub use ids::{ChatroomId, GroupId, Platform, UserId};

/// Milliseconds since the Unix epoch: the one time unit stored and returned.
pub type Millis = i64;

/// Current time in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
