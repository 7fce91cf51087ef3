//! The app access API's profile: nickname and avatar. Avatars must be real
//! images (PNG, JPEG, WebP or GIF, their header decoded), are stored through
//! `object_store` under a name derived from their content, and are served
//! back at a URL under the server's public URL.

use crate::auth::Caller;
use crate::Service;
use bytes::Bytes;
use confab_core::model::{User, UserPatch};
use confab_core::{now_millis, Error, Result};
use image::ImageFormat;
use object_store::path::Path;
use object_store::ObjectStore;
use std::sync::Arc;

/// Where uploaded files live, and the URL they are served under.
pub struct FileStore {
    pub store: Arc<dyn ObjectStore>,
    /// `http://host:port` (no trailing slash); files are at `/files/<name>`.
    pub public_url: String,
    /// Largest avatar accepted, in bytes.
    pub avatar_max_bytes: usize,
}

/// The image formats an avatar may have, with their content types.
fn avatar_format(format: ImageFormat) -> Option<(&'static str, &'static str)> {
    match format {
        ImageFormat::Png => Some(("png", "image/png")),
        ImageFormat::Jpeg => Some(("jpg", "image/jpeg")),
        ImageFormat::WebP => Some(("webp", "image/webp")),
        ImageFormat::Gif => Some(("gif", "image/gif")),
        _ => None,
    }
}

/// The content type a stored file is served with, by its extension.
pub fn content_type_of(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

/// Checks that `bytes` are an image of an accepted format (decoding its
/// header, on a blocking thread); returns its extension.
async fn check_image(bytes: Bytes) -> Result<&'static str> {
    tokio::task::spawn_blocking(move || {
        let reader = image::ImageReader::new(std::io::Cursor::new(&bytes[..]))
            .with_guessed_format()
            .map_err(Error::internal)?;
        let (ext, _) = reader
            .format()
            .and_then(avatar_format)
            .ok_or_else(|| Error::invalid("avatar: must be a PNG, JPEG, WebP or GIF image"))?;
        reader
            .into_dimensions()
            .map_err(|_| Error::invalid("avatar: not a readable image"))?;
        Ok(ext)
    })
    .await
    .map_err(Error::internal)?
}

impl Service {
    /// The service keeping uploaded files in `files`.
    pub fn with_files(mut self, files: FileStore) -> Service {
        self.files = Some(files);
        self
    }

    pub(crate) fn files(&self) -> Result<&FileStore> {
        self.files
            .as_ref()
            .ok_or_else(|| Error::internal("no file store is configured"))
    }

    /// The largest avatar accepted, in bytes.
    pub fn avatar_max_bytes(&self) -> usize {
        self.files.as_ref().map_or(0, |f| f.avatar_max_bytes)
    }

    /// Changes the caller's nickname (trimmed, 1–64 characters) and/or
    /// avatar; at least one. Returns the new profile.
    pub async fn update_own_profile(
        &self,
        caller: &Caller,
        nickname: Option<&str>,
        avatar: Option<Bytes>,
    ) -> Result<User> {
        if nickname.is_none() && avatar.is_none() {
            return Err(Error::invalid("give a nickname or an avatar (or both)"));
        }
        let mut patch = UserPatch::default();
        if let Some(name) = nickname {
            let name = name.trim();
            let len = name.chars().count();
            if !(1..=64).contains(&len) {
                return Err(Error::invalid("nickname: 1 to 64 characters"));
            }
            confab_core::validate::no_nul(confab_core::Field::Nickname, name)?;
            patch.nickname = Some(name.to_owned());
        }
        if let Some(bytes) = avatar {
            let files = self.files()?;
            if bytes.len() > files.avatar_max_bytes {
                return Err(Error::invalid(format!(
                    "avatar: at most {} bytes",
                    files.avatar_max_bytes
                )));
            }
            let ext = check_image(bytes.clone()).await?;
            let digest = blake2_hex(&bytes);
            let name = format!("avatars/{digest}.{ext}");
            files
                .store
                .put(&Path::from(name.as_str()), bytes.into())
                .await
                .map_err(Error::internal)?;
            patch.face_url = Some(format!("{}/files/{name}", files.public_url));
        }
        if !self
            .store
            .update_user(&caller.user_id, &patch, now_millis())
            .await?
        {
            return Err(Error::not_found(format!(
                "user {} does not exist",
                caller.user_id
            )));
        }
        self.require_user(&caller.user_id).await
    }

    /// A stored file and its content type; NotFound when there is none.
    pub async fn file(&self, name: &str) -> Result<(Bytes, &'static str)> {
        let valid = name.split('/').all(|part| {
            !part.is_empty()
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        });
        if !valid {
            return Err(Error::not_found("no such file"));
        }
        let files = self.files()?;
        let got = match files.store.get(&Path::from(name)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::not_found("no such file"))
            }
            Err(e) => return Err(Error::internal(e)),
        };
        let bytes = got.bytes().await.map_err(Error::internal)?;
        Ok((bytes, content_type_of(name)))
    }
}

fn blake2_hex(bytes: &[u8]) -> String {
    use blake2::{Blake2b512, Digest};
    Blake2b512::digest(bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
