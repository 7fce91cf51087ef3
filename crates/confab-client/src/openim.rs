//! The OpenIM admin API over HTTP: every route is a POST of a JSON body
//! answered with `{errCode, errMsg, data}`.

use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("errCode {code}: {message}")]
    Api { code: i64, message: String },
    #[error("unexpected reply: {0}")]
    Unexpected(String),
}

/// A decoded reply, whatever its errCode.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub status: u16,
    pub body: Value,
}

impl ApiReply {
    pub fn err_code(&self) -> i64 {
        self.body["errCode"].as_i64().unwrap_or(-1)
    }

    pub fn err_msg(&self) -> &str {
        self.body["errMsg"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The reply as a `Result`: `Ok(body)` when errCode is 0.
    pub fn into_result(self) -> Result<Value, ClientError> {
        match self.err_code() {
            0 => Ok(self.body),
            code => Err(ClientError::Api {
                code,
                message: self.err_msg().to_owned(),
            }),
        }
    }
}

#[derive(Clone)]
pub struct OpenImClient {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl OpenImClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:10000`).
    pub fn new(base_url: &str) -> OpenImClient {
        OpenImClient {
            base: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// The same client, sending `token` in the `token` header.
    pub fn with_token(&self, token: &str) -> OpenImClient {
        OpenImClient {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// POSTs `body` to `path` and decodes the reply, whatever its errCode.
    pub async fn call(&self, path: &str, body: &Value) -> Result<ApiReply, ClientError> {
        self.call_raw(path, body.to_string()).await
    }

    /// POSTs a raw body, for requests that are not valid JSON.
    pub async fn call_raw(&self, path: &str, body: String) -> Result<ApiReply, ClientError> {
        let mut req = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = &self.token {
            req = req.header("token", t);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text)
            .map_err(|_| ClientError::Unexpected(format!("HTTP {status}: {text}")))?;
        Ok(ApiReply { status, body })
    }

    /// POSTs and fails unless errCode is 0.
    pub async fn ok(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(path, body).await?.into_result()
    }

    /// A token for `user_id`, obtained with the admin secret.
    pub async fn user_token(
        &self,
        secret: &str,
        user_id: &str,
        platform: i32,
    ) -> Result<String, ClientError> {
        let body = self
            .ok(
                "/auth/user_token",
                &json!({"secret": secret, "platform": platform, "userID": user_id, "operationID": op_id()}),
            )
            .await?;
        token_of(&body)
    }

    /// Registers `user_id` and returns its first token (for platform 1).
    pub async fn register(
        &self,
        secret: &str,
        user_id: &str,
        nickname: &str,
    ) -> Result<String, ClientError> {
        self.register_on(secret, user_id, nickname, 1).await
    }

    /// Registers `user_id` and returns its first token, for `platform`.
    pub async fn register_on(
        &self,
        secret: &str,
        user_id: &str,
        nickname: &str,
        platform: i32,
    ) -> Result<String, ClientError> {
        let body = self
            .ok(
                "/auth/user_register",
                &json!({"secret": secret, "platform": platform, "userID": user_id, "nickname": nickname, "operationID": op_id()}),
            )
            .await?;
        token_of(&body)
    }
}

fn token_of(body: &Value) -> Result<String, ClientError> {
    body["data"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ClientError::Unexpected(format!("no data.token in {body}")))
}

/// A fresh operationID, as OpenIM requests carry.
pub fn op_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "op-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
