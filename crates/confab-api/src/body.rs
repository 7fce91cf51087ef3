//! Reading JSON bodies, shared by the dialects that take JSON: the checks
//! every body passes (an object, no NUL) and the message that names the
//! field at fault. Each dialect wraps the errors in its own envelope.

use confab_core::Error;

/// The body as a JSON object's text: an empty body is `{}`; anything but
/// an object, or a NUL anywhere (PostgreSQL cannot store one, so both
/// backends refuse it alike), is invalid.
pub fn json_object(bytes: &[u8]) -> Result<&[u8], Error> {
    let body: &[u8] = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => bytes,
        Some(_) => return Err(Error::invalid("request body: must be a JSON object")),
    };
    if confab_wire::has_nul_escape(body) {
        return Err(Error::invalid(
            "request body: text must not contain a NUL character (\\u0000)",
        ));
    }
    Ok(body)
}

/// A JSON object body as a route's shape `T` (`json_object`, then
/// `shape_error` naming the field at fault).
pub fn parse_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let body = json_object(bytes)?;
    // Plainly first; the path is tracked only to name an error's field.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(shape_error)
}

/// A body that does not fit the route's shape, naming the field at fault
/// (`memberList[0].roleLevel: invalid type ...`).
pub fn shape_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Error {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if path == "." || path == "?" {
        Error::invalid(format!("request body: {inner}"))
    } else {
        Error::invalid(format!("{path}: {inner}"))
    }
}
