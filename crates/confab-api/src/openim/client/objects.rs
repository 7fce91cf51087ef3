//! Uploads of message files, as OpenIM's SDKs make them (`/object/*`):
//! the part size, the start (with where each part goes), the parts put
//! to those URLs, and the completion that gives the file's URL. The file
//! is then served at `/files/objects/...` like every stored file.

use super::super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::routing::{post, put};
use axum::Router;
use confab_core::Error;
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/object/part_size", post(part_size))
        .route(
            "/object/initiate_multipart_upload",
            post(initiate_multipart_upload),
        )
        .route(
            "/object/complete_multipart_upload",
            post(complete_multipart_upload),
        )
        .route("/object/access_url", post(access_url))
        .route(
            "/object/upload/{id}/{part}",
            put(put_part).layer(axum::extract::DefaultBodyLimit::max(
                confab_service::MIN_PART_SIZE as usize + 64 * 1024,
            )),
        )
}

#[derive(Deserialize)]
struct SizeReq {
    size: i64,
}

/// `{size}` -> `{size: <part size>}`.
async fn part_size(
    State(s): State<AppState>,
    OpenImCaller(_caller): OpenImCaller,
    OpenIm(req): OpenIm<SizeReq>,
) -> ApiResult {
    Ok(Reply::data(
        json!({"size": s.service.upload_part_size(req.size)?}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitiateReq {
    size: i64,
    part_size: i64,
    name: String,
    #[serde(default)]
    content_type: String,
}

/// `{hash, size, partSize, maxParts, cause, name, contentType}` ->
/// `{url: "", upload: {uploadID, partSize, sign: {url, query, header,
/// parts: [{partNumber, url, query, header}]}, expireTime}}`. `url` is
/// empty: Confab does not recognise a file it has already (OpenIM's
/// "fast upload"), so every upload sends its parts.
async fn initiate_multipart_upload(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<InitiateReq>,
) -> ApiResult {
    let started = s
        .service
        .start_upload(
            &caller,
            &req.name,
            &req.content_type,
            req.size,
            req.part_size,
        )
        .await?;
    let parts: Vec<_> = started
        .part_urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"partNumber": i + 1, "url": url, "query": [], "header": []}))
        .collect();
    Ok(Reply::data(json!({
        "url": "",
        "upload": {
            "uploadID": started.upload_id,
            "partSize": req.part_size,
            "sign": {"url": "", "query": [], "header": [], "parts": parts},
            "expireTime": 0,
        },
    })))
}

/// `PUT /object/upload/{id}/{part}`: one part's bytes. No token: the
/// upload id, handed to its uploader only, is the permission (as a
/// presigned URL is).
async fn put_part(
    State(s): State<AppState>,
    path: Result<Path<(String, i64)>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult {
    // axum's rejections are plain text: answered in the envelope instead.
    let Path((id, part)) = path.map_err(|e| Error::invalid(format!("path: {}", e.body_text())))?;
    let bytes = bytes.map_err(|e| Error::invalid(format!("request body: {}", e.body_text())))?;
    s.service.put_upload_part(&id, part, bytes).await?;
    Ok(Reply::data(json!({})))
}

#[derive(Deserialize)]
struct CompleteReq {
    #[serde(rename = "uploadID")]
    upload_id: String,
    parts: Vec<String>,
}

/// `{uploadID, parts: [<md5 of each part>], name, contentType}` -> `{url}`.
async fn complete_multipart_upload(
    State(s): State<AppState>,
    OpenImCaller(caller): OpenImCaller,
    OpenIm(req): OpenIm<CompleteReq>,
) -> ApiResult {
    let url = s
        .service
        .complete_upload(&caller, &req.upload_id, &req.parts)
        .await?;
    Ok(Reply::data(json!({"url": url})))
}

#[derive(Deserialize)]
struct AccessReq {
    name: String,
}

/// `{name}` (a stored file's name, `objects/...`, or its URL) -> `{url,
/// expireTime}`; the URL does not expire.
async fn access_url(
    State(s): State<AppState>,
    OpenImCaller(_caller): OpenImCaller,
    OpenIm(req): OpenIm<AccessReq>,
) -> ApiResult {
    let name = req
        .name
        .split_once("/files/")
        .map_or(req.name.as_str(), |(_, rest)| rest);
    let url = s
        .service
        .file_url(name)
        .await?
        .ok_or_else(|| Error::not_found(format!("no file {name}")))?;
    Ok(Reply::data(json!({"url": url, "expireTime": 0})))
}
