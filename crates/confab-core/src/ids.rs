//! Validated identifiers. A dialect parses wire strings into these, naming the
//! wire field, so that a bad id is reported in the client's own terms.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Longest user or group id accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Characters that show nothing (zero-width spaces and joiners, bidi
/// controls, variation selectors, tags: Unicode's Default_Ignorable_Code_Point
/// set): an id holding one would look like another id without it.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Checks an id and returns it in NFC, Unicode's composed form, so that
/// `é` typed as one character or as `e` and a combining accent is one id.
fn check_id(field: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{field}: must not be empty")));
    }
    if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
    {
        return Err(Error::invalid(format!(
            "{field}: must not contain whitespace, control or invisible characters"
        )));
    }
    let value = match is_nfc_quick(value.chars()) {
        IsNormalized::Yes => value.to_owned(),
        _ => value.nfc().collect(),
    };
    if value.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!(
            "{field}: must be at most {MAX_ID_LEN} characters"
        )));
    }
    Ok(value)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `value`; `field` names it in the error message.
            pub fn parse(field: &str, value: &str) -> Result<Self> {
                check_id(field, value).map($name)
            }
            /// Wraps a value read back from the store, already checked on write.
            pub fn from_trusted(value: String) -> Self {
                $name(value)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user id, shared by every dialect: `u1` registered through the Easemob
    /// proxy is OpenIM's `userID: "u1"`.
    UserId
);
id_type!(
    /// A group id.
    GroupId
);
id_type!(
    /// A chatroom id: an online-only room.
    ChatroomId
);

impl UserId {
    /// The numeric form shown by dialects whose specs show numeric user ids:
    /// the id itself when it is a canonical positive decimal number.
    pub fn numeric(&self) -> Option<i64> {
        numeric_id(&self.0)
    }
}

/// Users whose id is not a number (`alice`, the admin users) are numbered
/// from here up, far above the numbers apps give their own users (yunbay
/// registers its users by number, the app API numbers phone users from 1):
/// a named user never takes one of those. Below 2^53, so JavaScript
/// clients read it exactly.
pub const NAMED_USER_NUMBERS_FROM: i64 = 1_000_000_000_000_000;

/// `Some(n)` when `s` is the canonical decimal form of a non-negative i64
/// (`"0"`, `"380"`; not `"0380"`). The yunbay API numbers its users from 0.
pub fn numeric_id(s: &str) -> Option<i64> {
    if s.is_empty() || (s.starts_with('0') && s != "0") || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// A client platform, with OpenIM's ids (1..9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    Ios = 1,
    Android = 2,
    Windows = 3,
    Osx = 4,
    Web = 5,
    MiniWeb = 6,
    Linux = 7,
    /// OpenIM's "APad"; its admin-token docs also use 8 for "admin".
    APad = 8,
    IPad = 9,
}

impl Platform {
    pub const ALL: [Platform; 9] = [
        Platform::Ios,
        Platform::Android,
        Platform::Windows,
        Platform::Osx,
        Platform::Web,
        Platform::MiniWeb,
        Platform::Linux,
        Platform::APad,
        Platform::IPad,
    ];

    pub fn from_id(id: i64) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| *p as i64 == id)
    }

    /// Parses a platform id, naming `field` in the error.
    pub fn parse(field: &str, id: i64) -> Result<Platform> {
        Platform::from_id(id)
            .ok_or_else(|| Error::invalid(format!("{field}: unknown platform {id}, expected 1..9")))
    }

    pub fn id(self) -> i32 {
        self as i32
    }

    /// OpenIM's platform names, as in its online-status responses.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Ios => "IOS",
            Platform::Android => "Android",
            Platform::Windows => "Windows",
            Platform::Osx => "OSX",
            Platform::Web => "Web",
            Platform::MiniWeb => "MiniWeb",
            Platform::Linux => "Linux",
            Platform::APad => "APad",
            Platform::IPad => "IPad",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_and_named() {
        assert!(UserId::parse("userID", "u1").is_ok());
        let long = "x".repeat(65);
        let err = UserId::parse("userID", &long).unwrap_err();
        assert_eq!(
            err.client_message(),
            "userID: must be at most 64 characters"
        );
        let err = GroupId::parse("group", "").unwrap_err();
        assert_eq!(err.client_message(), "group: must not be empty");
        assert!(UserId::parse("userID", "a b").is_err());
    }

    #[test]
    fn ids_are_one_spelling_of_one_name() {
        // `é` composed, and `e` with a combining acute accent: one id.
        let composed = UserId::parse("userID", "ren\u{e9}").unwrap();
        let decomposed = UserId::parse("userID", "rene\u{301}").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "ren\u{e9}");
        // Invisible characters would make a second `alice`.
        for invisible in [
            "\u{200b}", "\u{200d}", "\u{feff}", "\u{2060}", "\u{202e}", "\u{fe0f}", "\u{ad}",
        ] {
            let err = UserId::parse("userID", &format!("ali{invisible}ce")).unwrap_err();
            assert_eq!(
                err.client_message(),
                "userID: must not contain whitespace, control or invisible characters",
                "{invisible:?}"
            );
        }
        assert!(GroupId::parse("group", "g\u{0}").is_err());
        // Letters of other scripts are names of their own.
        assert!(UserId::parse("userID", "\u{430}lice").is_ok());
        assert!(UserId::parse("userID", "\u{674e}\u{96f7}").is_ok());
    }

    #[test]
    fn numeric_ids() {
        assert_eq!(numeric_id("380"), Some(380));
        assert_eq!(numeric_id("0380"), None);
        assert_eq!(numeric_id("0"), Some(0));
        assert_eq!(numeric_id("00"), None);
        assert_eq!(numeric_id(""), None);
        assert_eq!(numeric_id("u1"), None);
        assert_eq!(numeric_id("99999999999999999999"), None);
    }

    #[test]
    fn platforms() {
        assert_eq!(Platform::from_id(5), Some(Platform::Web));
        assert_eq!(Platform::from_id(10), None);
        assert_eq!(Platform::from_name("android"), Some(Platform::Android));
        assert_eq!(Platform::Ios.name(), "IOS");
    }
}
