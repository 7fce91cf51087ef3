//! Files a client uploads for its messages (images, files, voice, video),
//! in parts, as OpenIM's SDKs do: the client asks how big a part is,
//! starts an upload (and is told where to put each part), puts the parts,
//! and completes it with each part's MD5, getting the file's URL. Uploads
//! live in the file store (`object_store`) themselves, a manifest beside
//! their parts, so that a restart does not lose one under way; the parts
//! are joined into the file on completion and then removed.

use crate::auth::Caller;
use crate::Service;
use bytes::Bytes;
use confab_core::{now_millis, Error, Result};
use md5::{Digest, Md5};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

/// Smallest part (but the last), as OpenIM's and S3's minimum.
pub const MIN_PART_SIZE: i64 = 5 * 1024 * 1024;
/// Most parts of one upload.
pub const MAX_PARTS: i64 = 10_000;
/// Largest file a client may upload.
pub const MAX_UPLOAD_BYTES: i64 = 100 * 1024 * 1024;

/// An upload under way, as its manifest keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    owner: String,
    /// The file's name as the client gave it (`<userID>/<file name>`).
    name: String,
    content_type: String,
    size: i64,
    part_size: i64,
    parts: i64,
    created_at: i64,
}

/// What `start_upload` tells the client.
#[derive(Debug, Clone)]
pub struct StartedUpload {
    pub upload_id: String,
    /// Where each part goes, in order (part numbers from 1).
    pub part_urls: Vec<String>,
}

fn manifest_path(id: &str) -> Path {
    Path::from(format!("uploads/{id}/manifest.json"))
}

fn part_path(id: &str, part: i64) -> Path {
    Path::from(format!("uploads/{id}/{part}"))
}

/// An upload id is a capability (its parts are put without a token), so
/// it is random and checked to be one before it names a path.
fn checked_id(id: &str) -> Result<&str> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(Error::not_found("no such upload"))
    }
}

/// The part of `name` after its last `/`, in the characters a stored
/// file's name may have.
fn file_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Service {
    /// The part size for a file of `size` bytes.
    pub fn upload_part_size(&self, size: i64) -> Result<i64> {
        if !(1..=MAX_UPLOAD_BYTES).contains(&size) {
            return Err(Error::invalid(format!(
                "size: a file is 1 to {MAX_UPLOAD_BYTES} bytes"
            )));
        }
        Ok(MIN_PART_SIZE.max((size + MAX_PARTS - 1) / MAX_PARTS))
    }

    /// Starts an upload of a file of `size` bytes in parts of `part_size`.
    pub async fn start_upload(
        &self,
        caller: &Caller,
        name: &str,
        content_type: &str,
        size: i64,
        part_size: i64,
    ) -> Result<StartedUpload> {
        let expected = self.upload_part_size(size)?;
        if part_size != expected {
            return Err(Error::invalid(format!(
                "partSize: must be {expected} for a file of {size} bytes"
            )));
        }
        confab_core::validate::max_len(confab_core::Field::Ex, name, 1024)?;
        let files = self.files()?;
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let parts = (size + part_size - 1) / part_size;
        let manifest = Manifest {
            owner: caller.user_id.to_string(),
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size,
            part_size,
            parts,
            created_at: now_millis(),
        };
        let json = serde_json::to_vec(&manifest).map_err(Error::internal)?;
        files
            .store
            .put(&manifest_path(&upload_id), Bytes::from(json).into())
            .await
            .map_err(Error::internal)?;
        let part_urls = (1..=parts)
            .map(|n| format!("{}/object/upload/{upload_id}/{n}", files.public_url))
            .collect();
        Ok(StartedUpload {
            upload_id,
            part_urls,
        })
    }

    async fn manifest(&self, id: &str) -> Result<Manifest> {
        let files = self.files()?;
        let got = match files.store.get(&manifest_path(checked_id(id)?)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::not_found("no such upload"))
            }
            Err(e) => return Err(Error::internal(e)),
        };
        let bytes = got.bytes().await.map_err(Error::internal)?;
        serde_json::from_slice(&bytes).map_err(Error::internal)
    }

    /// Stores part `part` of upload `id` (whoever knows the id may: it is
    /// handed to the uploader only, as a presigned URL would be).
    pub async fn put_upload_part(&self, id: &str, part: i64, bytes: Bytes) -> Result<()> {
        let manifest = self.manifest(id).await?;
        if !(1..=manifest.parts).contains(&part) {
            return Err(Error::invalid(format!(
                "part: this upload has parts 1 to {}",
                manifest.parts
            )));
        }
        let len = bytes.len() as i64;
        let expected = if part < manifest.parts {
            manifest.part_size
        } else {
            manifest.size - manifest.part_size * (manifest.parts - 1)
        };
        if len != expected {
            return Err(Error::invalid(format!(
                "part {part} must be {expected} bytes, not {len}"
            )));
        }
        self.files()?
            .store
            .put(&part_path(id, part), bytes.into())
            .await
            .map_err(Error::internal)?;
        Ok(())
    }

    /// The URL of stored file `name`, if there is one.
    pub async fn file_url(&self, name: &str) -> Result<Option<String>> {
        match self.file(name).await {
            Ok(_) => Ok(Some(format!("{}/files/{name}", self.files()?.public_url))),
            Err(e) if e.kind() == confab_core::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Joins the parts of upload `id` into its file, checking each against
    /// the MD5 the client computed; returns the file's URL.
    pub async fn complete_upload(
        &self,
        caller: &Caller,
        id: &str,
        part_md5s: &[String],
    ) -> Result<String> {
        let manifest = self.manifest(id).await?;
        if manifest.owner != caller.user_id.as_str() {
            return Err(Error::not_found("no such upload"));
        }
        if part_md5s.len() as i64 != manifest.parts {
            return Err(Error::invalid(format!(
                "parts: this upload has {} parts, not {}",
                manifest.parts,
                part_md5s.len()
            )));
        }
        let files = self.files()?;
        let mut joined = Vec::with_capacity(usize::try_from(manifest.size).unwrap_or(0));
        for (i, want) in part_md5s.iter().enumerate() {
            let n = i as i64 + 1;
            let bytes = match files.store.get(&part_path(id, n)).await {
                Ok(got) => got.bytes().await.map_err(Error::internal)?,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(Error::precondition(format!("part {n} was not uploaded")))
                }
                Err(e) => return Err(Error::internal(e)),
            };
            if !md5_hex(&bytes).eq_ignore_ascii_case(want) {
                return Err(Error::invalid(format!(
                    "parts[{i}]: the MD5 of part {n} is not {want}"
                )));
            }
            joined.extend_from_slice(&bytes);
        }
        let stored = format!("objects/{id}-{}", file_name(&manifest.name));
        files
            .store
            .put(&Path::from(stored.as_str()), Bytes::from(joined).into())
            .await
            .map_err(Error::internal)?;
        for n in 1..=manifest.parts {
            let _ = files.store.delete(&part_path(id, n)).await;
        }
        let _ = files.store.delete(&manifest_path(id)).await;
        Ok(format!("{}/files/{stored}", files.public_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_ids_checked() {
        assert_eq!(file_name("alice/pic 1.png"), "pic_1.png");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("alice/..."), "file");
        assert!(checked_id("0123456789abcdef0123456789abcdef").is_ok());
        assert!(checked_id("../manifest").is_err());
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
