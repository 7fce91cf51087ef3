//! The served contract: `/openapi.json` is the document of the router's
//! routes, each documented operation is served, and `/docs` shows it.

use crate::harness::*;
use serde_json::Value;

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

on_sqlite!(lists_every_route, docs_page);
