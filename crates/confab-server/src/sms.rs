//! The `http` SMS provider: POSTs `{"nation_code", "phone", "code"}` as JSON
//! to the configured URL. A non-2xx answer or a timeout fails the send.

use confab_service::SmsSender;
use std::time::Duration;

/// How long the provider may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpSms {
    url: String,
    http: reqwest::Client,
}

impl HttpSms {
    pub fn new(url: String) -> anyhow::Result<HttpSms> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(HttpSms { url, http })
    }
}

#[async_trait::async_trait]
impl SmsSender for HttpSms {
    async fn send(&self, nation_code: &str, phone: &str, code: &str) -> Result<(), String> {
        let body = serde_json::json!({"nation_code": nation_code, "phone": phone, "code": code});
        let response = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("posting to the SMS provider: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the SMS provider answered {}", response.status()))
        }
    }
}
