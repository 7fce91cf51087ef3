//! The served contract: `/openapi.json` is the document of the router's
//! routes, each documented operation is served, and `/docs` shows it.

use crate::harness::*;
use serde_json::{json, Value};

async fn served_document(t: &TestServer) -> Value {
    let response = reqwest::get(format!("{}/openapi.json", t.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    response.json().await.unwrap()
}

async fn lists_every_route(t: &TestServer) {
    let doc = served_document(t).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Confab");
    assert_eq!(
        doc,
        serde_json::to_value(confab_api::openapi_document()).unwrap()
    );
    let paths = doc["paths"].as_object().unwrap();
    // As many as the dialects register (confab-api's tests count them in
    // the source).
    assert_eq!(paths.len(), 124);
    let http = reqwest::Client::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                t.url(),
                path.replace("{kind}", "avatars")
                    .replace("{name}", "none.png")
                    .replace("{id}", "none")
                    .replace("{part}", "1")
            );
            let request = match method.as_str() {
                "get" => http.get(&url),
                "post" => http.post(&url).body("{}"),
                "put" => http.put(&url).body("x"),
                other => panic!("{path}: unexpected method {other}"),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            // The router's fallback answers "no such route" (404) and its
            // method check 405; a documented route gets neither.
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(
                !body.to_string().contains("no such route"),
                "{method} {path} is documented but not served: {body}"
            );
            assert!(status != 500, "{method} {path}: {body}");
        }
    }
}

async fn docs_page(t: &TestServer) {
    let response = reqwest::get(format!("{}/docs", t.url())).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    // The page carries the document itself, and Scalar's viewer.
    assert!(page.contains("@scalar/api-reference"), "{page}");
    assert!(page.contains("\"/auth/user_token\""), "{page}");
}

/// An answer's status and JSON body.
async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("not JSON (HTTP {status}): {text:?}"));
    (status, body)
}

/// Found by schemathesis: a part number past i64 was answered with
/// axum's plain-text 400, outside OpenIM's envelope; so was a part larger
/// than the route takes (413).
async fn upload_parts_are_refused_in_the_envelope(t: &TestServer) {
    let http = reqwest::Client::new();
    let url = |part: &str| format!("{}/object/upload/none/{part}", t.url());
    let (status, body) = answer(http.put(url("9223372036854775808")).body("x")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errCode"], 803, "{body}");
    assert!(
        body["errMsg"].as_str().unwrap().starts_with("part: "),
        "{body}"
    );
    let (status, body) = answer(http.put(url("x1")).body("x")).await;
    assert_eq!((status, &body["errCode"]), (200, &json!(803)), "{body}");
    let too_big = vec![0u8; confab_service::MIN_PART_SIZE as usize + 128 * 1024];
    let (status, body) = answer(http.put(url("1")).body(too_big)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errCode"], 803, "{body}");
    assert!(
        body["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("request body: "),
        "{body}"
    );
    // A part that fits reaches the upload, which does not exist.
    let (status, body) = answer(http.put(url("1")).body("x")).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["errCode"], 0, "{body}");
}

/// The same for bodies past the server's bound on the routes that read
/// raw bytes (the JS SDK's protobuf routes, yunbay's `/man/msg/send`),
/// and for a file name that is not UTF-8.
async fn raw_bodies_and_paths_are_refused_in_the_envelope(t: &TestServer) {
    let http = reqwest::Client::new();
    let too_big = vec![b' '; confab_api::MAX_BODY_BYTES + 1];
    let token = t.user("raw_bodies").await.token().unwrap().to_owned();
    let (status, body) = answer(
        http.post(format!("{}/jssdk/get_conversations", t.url()))
            .header("token", &token)
            .body(too_big.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errCode"], 803, "{body}");
    assert!(
        body["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("request body: "),
        "{body}"
    );
    let (status, body) = answer(
        http.post(format!("{}/man/msg/send", t.url()))
            .header("content-type", "application/json")
            .body(too_big),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["reason"], "ERR_ARGS_INVALID", "{body}");
    let (status, body) = answer(http.get(format!("{}/files/avatars/%FF.png", t.url()))).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], 4, "{body}");
}

on_sqlite!(
    lists_every_route,
    docs_page,
    upload_parts_are_refused_in_the_envelope,
    raw_bodies_and_paths_are_refused_in_the_envelope,
);
