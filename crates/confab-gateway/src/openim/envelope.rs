//! The frames of OpenIM's v3 client gateway: binary frames holding JSON
//! `{reqIdentifier, msgIncr, sendID, operationID, data}` (requests) and
//! `{reqIdentifier, msgIncr, operationID, errCode, errMsg, data}` (replies
//! and pushes), `data` being the base64 of a protobuf message; gzipped
//! whole when the client connected with `compression=gzip`. Text frames
//! are heartbeats: `{"type":"ping"}` is answered `{"type":"pong"}`.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The request identifiers (OpenIM's `reqIdentifier`).
pub mod ident {
    pub const GET_NEWEST_SEQ: i32 = 1001;
    pub const PULL_BY_SEQ_RANGES: i32 = 1002;
    pub const SEND: i32 = 1003;
    pub const PULL_BY_SEQS: i32 = 1005;
    pub const READ_AND_MAX_SEQS: i32 = 1006;
    pub const PUSH: i32 = 2001;
    pub const KICK: i32 = 2002;
    pub const LOGOUT: i32 = 2003;
    pub const SET_BACKGROUND: i32 = 2004;
    pub const SUBSCRIBE_STATUS: i32 = 2005;
}

/// A client's request frame.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Req {
    pub req_identifier: i32,
    #[serde(default)]
    pub msg_incr: String,
    #[serde(default, rename = "sendID")]
    pub send_id: String,
    #[serde(default, rename = "operationID")]
    pub operation_id: String,
    /// Base64 of the protobuf request (Go's `[]byte` in JSON).
    #[serde(default)]
    pub data: String,
}

/// A server frame: a reply (with the request's identifier, `msgIncr` and
/// `operationID`) or a push (2001, 2002, 2005).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resp<'a> {
    pub req_identifier: i32,
    pub msg_incr: &'a str,
    #[serde(rename = "operationID")]
    pub operation_id: &'a str,
    pub err_code: i32,
    pub err_msg: &'a str,
    /// Base64 of the protobuf answer.
    pub data: String,
}

/// A text frame: OpenIM's application heartbeat.
#[derive(Debug, Deserialize)]
pub struct TextFrame {
    #[serde(rename = "type")]
    pub kind: String,
}

pub const PONG: &str = r#"{"type":"pong"}"#;

/// Gzips a frame.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = out.write_all(bytes);
    out.finish().unwrap_or_default()
}

/// Gunzips a frame of at most `limit` bytes once unpacked, so that a small
/// frame cannot unpack into a huge one.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(bytes).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| format!("frame: not gzip: {e}"))?;
    if out.len() > limit {
        return Err(format!("frame: more than {limit} bytes once unzipped"));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_is_bounded() {
        let text = br#"{"reqIdentifier":1001}"#.repeat(100);
        let packed = gzip(&text);
        assert!(packed.len() < text.len());
        assert_eq!(gunzip(&packed, 1 << 20).unwrap(), text);
        let e = gunzip(&packed, 100).unwrap_err();
        assert!(e.contains("more than 100 bytes"), "{e}");
        assert!(gunzip(b"not gzip", 100)
            .unwrap_err()
            .starts_with("frame: not gzip"));
    }
}
