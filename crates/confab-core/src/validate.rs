//! Bounds on free-text fields, reported with the domain field; each dialect
//! names the field in its own words.

use crate::error::{Error, Field, Result};

/// Longest name, nickname or URL accepted.
pub const MAX_NAME_LEN: usize = 255;
/// Longest free text (notification, introduction, ex, request message).
pub const MAX_TEXT_LEN: usize = 4096;

/// Checks that `value` is at most `max` characters long and holds no NUL
/// (which PostgreSQL cannot store in text, so both backends refuse it alike).
pub fn max_len(field: Field, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid_field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    no_nul(field, value)
}

/// Refuses text with a NUL character.
pub fn no_nul(field: Field, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid_field(
            field,
            "must not contain a NUL character",
        ));
    }
    Ok(())
}

/// `max_len` for an optional value.
pub fn opt_max_len(field: Field, value: &Option<String>, max: usize) -> Result<()> {
    match value {
        Some(v) => max_len(field, v, max),
        None => Ok(()),
    }
}

/// Checks a batch is non-empty and not larger than `max`.
pub fn batch<T>(field: Field, items: &[T], max: usize) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid_field(field, "must not be empty"));
    }
    if items.len() > max {
        return Err(Error::invalid_field(
            field,
            format!("at most {max} items per request, got {}", items.len()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(max_len(Field::GroupName, &"群".repeat(255), MAX_NAME_LEN).is_ok());
        let err = max_len(Field::GroupName, &"a".repeat(256), MAX_NAME_LEN).unwrap_err();
        assert_eq!(
            err.client_message(),
            "group_name: must be at most 255 characters"
        );
        assert_eq!(
            err.client_message_naming(|_| "name"),
            "name: must be at most 255 characters"
        );
    }

    #[test]
    fn nul_is_refused() {
        let err = max_len(Field::Ex, "a\0b", MAX_TEXT_LEN).unwrap_err();
        assert_eq!(err.client_message(), "ex: must not contain a NUL character");
    }

    #[test]
    fn batches() {
        assert!(batch::<u8>(Field::Users, &[], 10).is_err());
        assert!(batch(Field::Users, &[1; 10], 10).is_ok());
        let err = batch(Field::Users, &[1; 11], 10).unwrap_err();
        assert_eq!(
            err.client_message(),
            "users: at most 10 items per request, got 11"
        );
    }
}
