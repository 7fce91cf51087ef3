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
    let mut arguments: Vec<String> = arguments
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, ARGUMENT),
                utf8_percent_encode(value, ARGUMENT)
            )
        })
        .collect();
    // Sorting `name=value` sorts by name, then by value, except where one
    // name is a prefix of another; sort the pairs as pairs to be exact.
    arguments.sort_by(|a, b| {
        let split = |s: &String| {
            let (n, v) = s.split_once('=').unwrap_or((s.as_str(), ""));
            (n.to_owned(), v.to_owned())
        };
        split(a).cmp(&split(b))
    });

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
        // Form fields count as arguments.
        let form = canonical("/f", Some("z=1"), &h, b"y=2", true);
        assert_eq!(form.lines().nth(1).unwrap(), "y=2&z=1");
    }
}
