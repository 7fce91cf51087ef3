//! Generators shared by the codecs' properties: JSON values of every
//! shape, the awkward ones (huge numbers, deep nesting, long strings),
//! near-valid objects (a valid object with one field mutated) and byte
//! mutations of valid frames.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Integers where arithmetic goes wrong: the ends of each width, around
/// zero, and any other.
pub fn edge_i64() -> BoxedStrategy<i64> {
    prop_oneof![
        3 => any::<i64>(),
        1 => prop::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            i64::MAX - 1,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            i64::from(u32::MAX),
            -1,
            0,
            1,
            100,
            101,
        ]),
        2 => -3i64..300,
    ]
    .boxed()
}

pub fn edge_i32() -> BoxedStrategy<i32> {
    prop_oneof![
        2 => any::<i32>(),
        1 => prop::sample::select(vec![i32::MIN, i32::MAX, -1, 0, 1, 2, 3, 4, 5, 101, 1201]),
    ]
    .boxed()
}

/// Numbers as JSON text, including those no integer type holds.
pub fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        edge_i64().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "18446744073709551616",
            "-9223372036854775809",
            "1e400",
            "-1e400",
            "1e-400",
            "0.0000000000000000000000000001",
            "123456789012345678901234567890123456789012345678901234567890",
            "1.5",
            "-0",
            "1E2",
        ])
        .prop_map(str::to_owned),
        "[1-9][0-9]{20,400}",
    ]
    .boxed()
}

/// Strings a client may send: any text, ids, and long or odd ones.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[a-z0-9_]{0,12}",
        1 => prop::sample::select(vec![
            "", " ", "alice", "bob", "si_alice_bob", "sg_team", "g_team", "sn_alice",
            "n_alice", "b_all", "cr_room", "\u{0}", "\\u0000", "\u{feff}", "💬", "../..", "%00",
        ])
        .prop_map(str::to_owned),
        1 => (prop::sample::select(vec!["a", "é", "💬", "\\", "\""]), 1000usize..70_000)
            .prop_map(|(s, n)| s.repeat(n)),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number_text().prop_filter_map("a JSON number", |t| serde_json::from_str(&t).ok()),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Nesting past any parser's recursion limit, as text: `[[[...]]]`,
/// `{"a":{"a":...}}`, or unclosed.
pub fn deep_nesting() -> BoxedStrategy<String> {
    (1usize..20_000, any::<bool>(), any::<bool>())
        .prop_map(|(depth, objects, closed)| {
            let (open, close) = if objects {
                ("{\"a\":", "}")
            } else {
                ("[", "]")
            };
            let mut s = open.repeat(depth);
            s.push('1');
            if closed {
                s.push_str(&close.repeat(depth));
            }
            s
        })
        .boxed()
}

/// `valid` with fields mutated: one replaced by any value, removed, or
/// renamed, and sometimes an unknown field added.
pub fn mutated(valid: Map<String, Value>) -> BoxedStrategy<Value> {
    let keys: Vec<String> = valid.keys().cloned().collect();
    let n = keys.len().max(1);
    (
        prop::collection::vec((0..n, 0u8..4, json_value()), 0..3),
        prop::option::of((text(), json_value())),
    )
        .prop_map(move |(edits, extra)| {
            let mut object = valid.clone();
            for (i, how, value) in edits {
                let Some(key) = keys.get(i) else { continue };
                match how {
                    0 => {
                        object.remove(key);
                    }
                    1 => {
                        if let Some(v) = object.remove(key) {
                            object.insert(key.to_uppercase(), v);
                        }
                    }
                    _ => {
                        object.insert(key.clone(), value);
                    }
                }
            }
            if let Some((k, v)) = extra {
                object.insert(k, v);
            }
            Value::Object(object)
        })
        .boxed()
}

/// `bytes` cut short, with bytes flipped, or as they are.
pub fn damaged(bytes: Vec<u8>) -> BoxedStrategy<Vec<u8>> {
    let len = bytes.len();
    prop_oneof![
        Just(bytes.clone()),
        (0..=len).prop_map({
            let bytes = bytes.clone();
            move |cut| bytes[..cut].to_vec()
        }),
        prop::collection::vec((0..len.max(1), any::<u8>()), 1..4).prop_map(move |flips| {
            let mut out = bytes.clone();
            for (i, b) in flips {
                if let Some(at) = out.get_mut(i) {
                    *at = b;
                }
            }
            out
        }),
    ]
    .boxed()
}
