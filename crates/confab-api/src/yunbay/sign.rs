//! The canonical text of a request that `X-Yf-Sign` signs
//! (`docs/yunbay.md`): path, sorted arguments, sorted `x-yf-*` headers,
//! their names, the body's SHA-1. The service appends the app's key and
//! checks the signature.

use axum::http::HeaderMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Bytes left as they are in a path: letters, digits, `_ - ~ .` and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'-')
    .remove(b'~')
    .remove(b'.')
    .remove(b'/');
/// In an argument, `/` is encoded too.
const ARGUMENT: &AsciiSet = &PATH.add(b'/');

/// Whether `path` holds a `%XX` escape already (then it is taken as is).
fn is_escaped(path: &str) -> bool {
    path.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// Refuses what the signature could not pin down: an `x-yf-*` header given
/// twice (its values are signed sorted, so their order, which the routes
/// read, would be free), or one whose value is not visible ASCII.
pub fn check_headers(headers: &HeaderMap) -> Result<(), String> {
    for name in headers.keys() {
        let lower = name.as_str().to_ascii_lowercase();
        if !lower.starts_with("x-yf-") {
            continue;
        }
        let mut values = headers.get_all(name).iter();
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("{}: given more than once", name.as_str()));
        }
        if first.is_some_and(|v| !v.as_bytes().iter().all(|b| (0x20..0x7f).contains(b))) {
            return Err(format!("{}: must be visible ASCII", name.as_str()));
        }
    }
    Ok(())
}

/// The canonical text, without the key line. `query` is the raw query
/// string; `form` a form-encoded body, whose fields count as arguments.
pub fn canonical(
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    form: bool,
) -> String {
    let path = if is_escaped(path) {
        path.to_owned()
    } else {
        utf8_percent_encode(path, PATH).to_string()
    };

    let mut arguments: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if form {
        arguments.extend(form_urlencoded::parse(body).into_owned());
    }
    // By name, then by value, as given (before encoding), as the
    // original sorts its argument map.
    arguments.sort();
    let arguments: Vec<String> = arguments
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, ARGUMENT),
                utf8_percent_encode(value, ARGUMENT)
            )
        })
        .collect();

    let mut names: Vec<String> = headers
        .keys()
        .map(|n| n.as_str().to_ascii_lowercase())
        .filter(|n| n.starts_with("x-yf-") && n != "x-yf-sign")
        .collect();
    names.sort();
    names.dedup();
    let header_lines: Vec<String> = names
        .iter()
        .map(|name| {
            // One value each (`check_headers`); several would be sorted
            // and joined by `,`, as the notes say.
            let mut values: Vec<String> = headers
                .get_all(name.as_str())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
                .collect();
            values.sort();
            format!("{name}:{}", values.join(","))
        })
        .collect();

    format!(
        "{path}\n{}\n{}\n{}\n{}",
        arguments.join("&"),
        header_lines.join("\n"),
        names.join(";"),
        confab_service::sha1_hex(body)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("X-Yf-AppId", "ybapi"),
            ("X-Yf-rid", "1"),
            ("X-Yf-Platform", "test"),
            ("X-Yf-Version", "2.8.1"),
            ("X-Yf-Sign", "whatever"),
            ("Content-Type", "application/json"),
        ] {
            h.insert(
                axum::http::HeaderName::try_from(k).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_worked_example() {
        let text = canonical(
            "/man/user/register",
            None,
            &headers(),
            br#"{"user_id":0}"#,
            false,
        );
        let body_hash = confab_service::sha1_hex(br#"{"user_id":0}"#);
        assert_eq!(
            text,
            format!("/man/user/register\n\nx-yf-appid:ybapi\nx-yf-platform:test\nx-yf-rid:1\nx-yf-version:2.8.1\nx-yf-appid;x-yf-platform;x-yf-rid;x-yf-version\n{body_hash}")
        );
        let key = "a20331ad70081a25d0b00d0b0052d202";
        assert_eq!(
            confab_service::sha1_hex(format!("{text}\n{key}").as_bytes()),
            "ec68a8754785a6a546911d05f2de374b0d7ee910"
        );
        let get = canonical(
            "/man/user/info",
            Some("user_ids=51869"),
            &headers(),
            b"",
            false,
        );
        assert_eq!(
            confab_service::sha1_hex(format!("{get}\n{key}").as_bytes()),
            "9a771311d8614f9fafbbb70468dc88a0465b78d0"
        );
    }

    #[test]
    fn arguments_are_sorted_and_encoded() {
        let h = HeaderMap::new();
        let text = canonical(
            "/a b/c",
            Some("b=2&a=x%2Fy&a=1&c=%E4%BD%A0+z"),
            &h,
            b"",
            false,
        );
        let first_line = text.lines().next().unwrap();
        assert_eq!(first_line, "/a%20b/c");
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "a=1&a=x%2Fy&b=2&c=%E4%BD%A0%20z"
        );
        // A path escaped already is taken as it is.
        assert!(canonical("/a%20b", None, &h, b"", false).starts_with("/a%20b\n"));
        // Sorted by name as given: `a0` before `a:` (encoded `a%3A`).
        let text = canonical("/p", Some("a%3A=1&a0=2"), &h, b"", false);
        assert_eq!(text.lines().nth(1).unwrap(), "a0=2&a%3A=1");
        // Form fields count as arguments.
        let form = canonical("/f", Some("z=1"), &h, b"y=2", true);
        assert_eq!(form.lines().nth(1).unwrap(), "y=2&z=1");
    }

    #[test]
    fn repeated_or_binary_headers_are_refused() {
        let mut h = headers();
        assert!(check_headers(&h).is_ok());
        h.append("x-yf-token", "a".parse().unwrap());
        assert!(check_headers(&h).is_ok());
        h.append("x-yf-token", "b".parse().unwrap());
        assert!(check_headers(&h).unwrap_err().contains("more than once"));
        let mut h = headers();
        h.insert(
            "x-yf-token",
            axum::http::HeaderValue::from_bytes(&[0xe4, 0xbd, 0xa0]).unwrap(),
        );
        assert!(check_headers(&h).unwrap_err().contains("visible ASCII"));
    }
}
