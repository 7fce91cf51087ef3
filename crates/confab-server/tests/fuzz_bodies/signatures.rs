//! yunbay's `X-Yf-Sign` through the real router: a signature computed over
//! any arguments verifies whatever their order (the notes sort them), and
//! changing any value after signing breaks it.

use crate::bodies::json_value;
use crate::config;
use crate::fixture::{fixture, Answer, APP_ID, APP_KEY, TRUSTED};
use axum::http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;

fn query_of(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `GET /man/user/info?<query>` signed over `signed_query`.
fn get_signed(query: &str, signed_query: &str) -> Answer {
    let path = "/man/user/info";
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("x-yf-appid", APP_ID),
        ("x-yf-rid", "7"),
        ("x-yf-platform", "android"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    let text = confab_api::yunbay::canonical(path, Some(signed_query), &headers, b"", false);
    let signature = confab_service::sha1_hex(format!("{text}\n{APP_KEY}").as_bytes());
    headers.insert("x-yf-sign", HeaderValue::from_str(&signature).unwrap());
    fixture().send(
        Method::GET,
        &format!("{path}?{query}"),
        headers,
        Vec::new(),
        TRUSTED,
    )
}

fn reason(answer: &Answer) -> String {
    answer.json()["reason"].as_str().unwrap_or("").to_owned()
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![Just("user_ids".to_owned()), "[a-z_]{1,8}", any::<String>()],
            prop_oneof![
                "[0-9]{1,6}(,[0-9]{1,6}){0,3}",
                any::<String>(),
                json_value()
                    .prop_map(|v| v.to_string())
                    // A URI holds at most 64 KiB, encoded.
                    .prop_filter("fits in a URI", |v| v.len() < 4096)
            ],
        ),
        1..6,
    )
}

proptest! {
    #![proptest_config(config())]

    /// Signed as sent, in any order: the signature is accepted (whatever
    /// the route then says of the arguments).
    #[test]
    fn a_signature_over_any_arguments_verifies_in_any_order(
        pairs in pairs(),
        order in any::<prop::sample::Index>(),
    ) {
        let query = query_of(&pairs);
        let mut shuffled = pairs.clone();
        let by = order.index(shuffled.len());
        shuffled.rotate_left(by);
        shuffled.reverse();
        for signed in [&query, &query_of(&shuffled)] {
            let answer = get_signed(&query, signed);
            crate::envelopes::check("/man/user/info", &answer);
            prop_assert_ne!(reason(&answer), "ERR_SIGN_ERROR", "{}", String::from_utf8_lossy(&answer.body));
        }
    }

    /// Any value changed after signing is refused as a bad signature.
    #[test]
    fn changing_any_value_breaks_the_signature(
        pairs in pairs(),
        which in any::<prop::sample::Index>(),
        new_value in any::<String>(),
    ) {
        let mut changed = pairs.clone();
        let i = which.index(changed.len());
        prop_assume!(changed[i].1 != new_value);
        changed[i].1 = new_value;
        let answer = get_signed(&query_of(&changed), &query_of(&pairs));
        crate::envelopes::check("/man/user/info", &answer);
        prop_assert_eq!(answer.status.as_u16(), 401);
        prop_assert_eq!(reason(&answer), "ERR_SIGN_ERROR");
    }
}
