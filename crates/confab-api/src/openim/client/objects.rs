//! Uploads of message files, as OpenIM's SDKs make them (`/object/*`):
//! the part size, the start (with where each part goes), the parts put
//! to those URLs, and the completion that gives the file's URL. The file
//! is then served at `/files/objects/...` like every stored file.

use super::super::{ApiResult, OpenIm, OpenImCaller, Reply};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use confab_core::Error;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(part_size))
        .routes({
            let (schemas, paths, route) = routes!(initiate_multipart_upload);
            (schemas, paths, route)
        })
        .routes({
            let (schemas, paths, route) = routes!(complete_multipart_upload);
            (schemas, paths, route)
        })
        .routes(routes!(access_url))
        .routes({
            let (schemas, paths, route) = routes!(put_part);
            (
                schemas,
                paths,
                route.layer(axum::extract::DefaultBodyLimit::max(
                    confab_service::MIN_PART_SIZE as usize + 64 * 1024,
                )),
            )
        })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::SizeReq)]
struct SizeReq {
    size: i64,
}

/// `{size}` -> `{size: <part size>}`.
#[utoipa::path(post, path = "/object/part_size", tag = "openim",
    request_body = SizeReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
async fn part_size(
    State(s): State<AppState>,
    OpenImCaller(_caller): OpenImCaller,
    OpenIm(req): OpenIm<SizeReq>,
) -> ApiResult {
    Ok(Reply::data(
        json!({"size": s.service.upload_part_size(req.size)?}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::InitiateReq)]
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
#[utoipa::path(post, path = "/object/initiate_multipart_upload", tag = "openim",
    request_body = InitiateReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
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
#[utoipa::path(put, path = "/object/upload/{id}/{part}", tag = "openim",
    params(
        ("id" = String, Path, description = "The upload's id, from initiate_multipart_upload"),
        ("part" = i64, Path, description = "The part's number, from 1"),
    ),
    request_body(content = [u8], content_type = "application/octet-stream", description = "The part's bytes"),
    security(()), responses(crate::openapi::OpenImAnswer))]
async fn put_part(
    State(s): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult {
    // axum's rejections are plain text: each is given in the envelope.
    let Path((id, part)) = path.map_err(|e| Error::invalid(format!("path: {}", e.body_text())))?;
    let part: i64 = part
        .parse()
        .map_err(|_| Error::invalid(format!("part: not a part number: {part:?}")))?;
    let bytes = bytes.map_err(|e| Error::invalid(format!("request body: {}", e.body_text())))?;
    s.service.put_upload_part(&id, part, bytes).await?;
    Ok(Reply::data(json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::CompleteReq)]
struct CompleteReq {
    #[serde(rename = "uploadID")]
    upload_id: String,
    parts: Vec<String>,
}

/// `{uploadID, parts: [<md5 of each part>], name, contentType}` -> `{url}`.
#[utoipa::path(post, path = "/object/complete_multipart_upload", tag = "openim",
    request_body = CompleteReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = openim::AccessReq)]
struct AccessReq {
    name: String,
}

/// `{name}` (a stored file's name, `objects/...`, or its URL) -> `{url,
/// expireTime}`; the URL does not expire.
#[utoipa::path(post, path = "/object/access_url", tag = "openim",
    request_body = AccessReq,
    security(("openim_user" = [])), responses(crate::openapi::OpenImAnswer))]
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
