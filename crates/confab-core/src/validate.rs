//! Bounds on free-text fields, reported with the wire field's name.

use crate::error::{Error, Result};

/// Longest name, nickname or URL accepted.
pub const MAX_NAME_LEN: usize = 255;
/// Longest free text (notification, introduction, ex, request message).
pub const MAX_TEXT_LEN: usize = 4096;

/// Checks that `value` is at most `max` characters long.
pub fn max_len(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(format!(
            "{field}: must be at most {max} characters"
        )));
    }
    Ok(())
}

/// `max_len` for an optional value.
pub fn opt_max_len(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    match value {
        Some(v) => max_len(field, v, max),
        None => Ok(()),
    }
}

/// Checks a batch is non-empty and not larger than `max`.
pub fn batch<T>(field: &str, items: &[T], max: usize) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid(format!("{field}: must not be empty")));
    }
    if items.len() > max {
        return Err(Error::invalid(format!(
            "{field}: at most {max} items per request, got {}",
            items.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(max_len("name", &"群".repeat(255), MAX_NAME_LEN).is_ok());
        let err = max_len("name", &"a".repeat(256), MAX_NAME_LEN).unwrap_err();
        assert_eq!(err.client_message(), "name: must be at most 255 characters");
    }

    #[test]
    fn batches() {
        assert!(batch::<u8>("ids", &[], 10).is_err());
        assert!(batch("ids", &[1; 10], 10).is_ok());
        let err = batch("ids", &[1; 11], 10).unwrap_err();
        assert_eq!(
            err.client_message(),
            "ids: at most 10 items per request, got 11"
        );
    }
}
