//! The OpenAPI document against the routes: every route registered is
//! documented (and so routed) by one `routes!` entry, each operation names
//! its dialect and a credential the document defines, and the credential
//! table holds the admin-only, secret-bearing and open routes it should.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use confab_api::fallback::Dialect;
use confab_api::openapi::scheme;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

fn document() -> Value {
    serde_json::to_value(confab_api::openapi_document()).unwrap()
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

/// The code of a source, without its comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_route_is_registered_with_its_operation() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut registered = 0;
    for (name, text) in &files {
        let code = code(text);
        // A bare `.route(` would serve a path the document does not list.
        assert!(
            !code.contains(".route(") && !code.contains(".route_service("),
            "{name} registers a route outside routes!()"
        );
        registered += code.matches("routes!(").count();
    }
    let doc = document();
    let ops = operations(&doc);
    // One handler per `routes!` entry, one method per path.
    assert_eq!(ops.len(), registered);
    assert_eq!(doc["paths"].as_object().unwrap().len(), registered);
    assert_eq!(registered, 124, "openim 97, easemob 13, app 7, yunbay 7");
}

#[test]
fn every_operation_names_its_dialect_and_a_defined_credential() {
    let doc = document();
    let defined: BTreeSet<String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(defined, scheme::ALL.iter().map(|s| s.to_string()).collect());
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let tag = op["tags"][0].as_str().unwrap();
        let expected = match Dialect::of(&path) {
            // Stored files are the app API's, whatever their prefix.
            _ if path.starts_with("/files/") => "app",
            Dialect::OpenIm => "openim",
            Dialect::Easemob => "easemob",
            Dialect::App => "app",
            Dialect::Yunbay => "yunbay",
        };
        assert_eq!(tag, expected, "{method} {path}");
        assert_eq!(op["tags"].as_array().unwrap().len(), 1, "{path}");
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no security"));
        assert!(!security.is_empty(), "{path}");
        for requirement in security {
            for name in requirement.as_object().unwrap().keys() {
                assert!(defined.contains(name), "{path}: unknown scheme {name}");
            }
        }
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()));
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.contains_key("200") && responses.contains_key("500"),
            "{path}"
        );
    }
}

/// The paths whose every requirement is exactly `names`.
fn paths_needing(doc: &Value, names: &[&str]) -> BTreeSet<String> {
    let wanted: BTreeSet<&str> = names.iter().copied().collect();
    operations(doc)
        .into_iter()
        .filter(|(_, _, op)| {
            op["security"].as_array().unwrap().iter().all(|r| {
                r.as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect::<BTreeSet<_>>()
                    == wanted
            })
        })
        .map(|(_, path, _)| path)
        .collect()
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

#[test]
fn the_credential_table() {
    let doc = document();
    assert_eq!(
        paths_needing(&doc, &[scheme::OPENIM_ADMIN]),
        set(&[
            "/friend/import_friend",
            "/manager/account_check",
            "/manager/batch_send_msg",
            "/manager/delete_user",
            "/manager/get_all_users_uid",
            "/manager/get_users_online_status",
            "/manager/send_msg",
            "/msg/batch_send_msg",
            "/msg/manage_send_msg",
            "/user/account_check",
            "/user/delete_user",
            "/user/get_all_users_uid",
            "/user/get_users_online_status",
        ])
    );
    assert_eq!(
        paths_needing(&doc, &[scheme::OPENIM_SECRET]),
        set(&["/auth/user_register", "/auth/user_token"])
    );
    assert_eq!(
        paths_needing(&doc, &[]),
        set(&[
            "/accessuser/signinbysms",
            "/files/{kind}/{name}",
            "/hx/userToken",
            "/object/upload/{id}/{part}",
            "/sms/send",
        ])
    );
    assert_eq!(
        paths_needing(&doc, &[scheme::APP_SESSION]),
        set(&[
            "/accessuser/getimtoken",
            "/accessuser/updateuserinfo",
            "/relation/followlist",
            "/relation/operation",
        ])
    );
    assert_eq!(
        paths_needing(&doc, &[scheme::TRUSTED_NETWORK]),
        set(&["/man/account/token", "/man/msg/send"])
    );
    assert_eq!(
        paths_needing(&doc, &[scheme::TRUSTED_NETWORK, scheme::YUNBAY_SIGN]),
        set(&[
            "/man/user/info",
            "/man/user/info/update",
            "/man/user/info/update/all",
            "/man/user/register",
        ])
    );
    assert_eq!(
        paths_needing(&doc, &[scheme::YUNBAY_SIGN, scheme::YUNBAY_USER]),
        set(&["/v1/user/token"])
    );
    // getToken: from the trusted networks, or with the client credentials.
    assert_eq!(
        doc["paths"]["/hx/getToken"]["post"]["security"],
        json!([{"trusted_network": []}, {"easemob_client": []}])
    );
    assert_eq!(paths_needing(&doc, &[scheme::EASEMOB_APP]).len(), 11);
    // Every other OpenIM route takes any user's token.
    let users = paths_needing(&doc, &[scheme::OPENIM_USER]);
    assert_eq!(users.len(), 97 - 13 - 2 - 1);
    assert!(users.iter().all(|p| Dialect::of(p) == Dialect::OpenIm));
}

#[test]
fn the_user_token_route_as_documented() {
    let doc = document();
    let op = &doc["paths"]["/auth/user_token"]["post"];
    assert_eq!(op["tags"], json!(["openim"]));
    assert_eq!(op["operationId"], "auth.user_token");
    assert_eq!(op["security"], json!([{"openim_secret": []}]));
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/openim.UserTokenReq"})
    );
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/openim.Envelope"})
    );
    let body = &doc["components"]["schemas"]["openim.UserTokenReq"];
    assert_eq!(body["type"], "object");
    assert_eq!(body["required"], json!(["secret", "platform", "userID"]));
    assert_eq!(body["properties"]["platform"]["type"], "integer");
    assert_eq!(body["properties"]["userID"]["type"], "string");
    let envelope = &doc["components"]["schemas"]["openim.Envelope"];
    assert_eq!(envelope["required"], json!(["errCode", "errMsg"]));
    // The error table is the envelope's: 803 for a bad argument, on HTTP 200.
    let codes = envelope["description"].as_str().unwrap();
    assert!(
        codes.contains("| `invalid_argument` | 803 | 200 |"),
        "{codes}"
    );
    assert!(codes.contains("| `internal` | 500 | 500 |"), "{codes}");
    let scheme = &doc["components"]["securitySchemes"]["openim_secret"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["name"], "secret");
    assert_eq!(scheme["x-confab-in"], "body");
}
