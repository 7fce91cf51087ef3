//! The yunbay API's settings: app signing keys, the debug signature, the
//! account service profiles come from, and lifetimes.

use anyhow::bail;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

/// Signing keys by app id. In the file a table (`{ ybapi = "KEY" }`); in
/// `CONFAB_YUNBAY_APP_KEYS` and the flag, `ybapi=KEY,other=KEY2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppKeys(pub BTreeMap<String, String>);

impl FromStr for AppKeys {
    type Err = String;

    fn from_str(s: &str) -> Result<AppKeys, String> {
        s.split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((app, key)) if !app.trim().is_empty() && !key.trim().is_empty() => {
                    Ok((app.trim().to_owned(), key.trim().to_owned()))
                }
                _ => Err(format!("expected APP=KEY, got {pair:?}")),
            })
            .collect::<Result<_, _>>()
            .map(AppKeys)
    }
}

#[derive(Clone)]
pub struct YunbayConfig {
    pub app_keys: AppKeys,
    pub debug_sign: bool,
    /// None: profiles come from the request.
    pub account_url: Option<String>,
    pub account_timeout: Duration,
    pub broadcast_ttl_secs: i64,
    pub token_ttl_secs: i64,
}

impl std::fmt::Debug for YunbayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YunbayConfig")
            .field("apps", &self.app_keys.0.keys().collect::<Vec<_>>())
            .field("debug_sign", &self.debug_sign)
            .field("account_url", &self.account_url)
            .finish_non_exhaustive()
    }
}

impl YunbayConfig {
    pub fn from_settings(s: &super::Settings) -> anyhow::Result<YunbayConfig> {
        let account_url = s
            .yunbay_account_url
            .clone()
            .filter(|u| !u.trim().is_empty());
        if let Some(url) = &account_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("yunbay_account_url: expected an http(s) URL, got {url:?}");
            }
        }
        let timeout_ms = s.yunbay_account_timeout_ms.unwrap_or(3000);
        if timeout_ms == 0 {
            bail!("yunbay_account_timeout_ms: must be positive");
        }
        let broadcast_ttl_secs = s.yunbay_broadcast_ttl_secs.unwrap_or(7 * 86_400);
        if broadcast_ttl_secs <= 0 {
            bail!("yunbay_broadcast_ttl_secs: must be positive");
        }
        let token_ttl_secs = s.yunbay_token_ttl_secs.unwrap_or(30 * 86_400);
        if token_ttl_secs <= 0 {
            bail!("yunbay_token_ttl_secs: must be positive");
        }
        Ok(YunbayConfig {
            app_keys: s.yunbay_app_keys.clone().unwrap_or_default(),
            debug_sign: s.yunbay_debug_sign.unwrap_or(false),
            account_url,
            account_timeout: Duration::from_millis(timeout_ms),
            broadcast_ttl_secs,
            token_ttl_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_keys_from_the_environment() {
        let keys: AppKeys = "ybapi=KEY, other=KEY2".parse().unwrap_or_default();
        assert_eq!(keys.0.get("ybapi").map(String::as_str), Some("KEY"));
        assert_eq!(keys.0.get("other").map(String::as_str), Some("KEY2"));
        assert!("ybapi".parse::<AppKeys>().is_err());
        assert!("=KEY".parse::<AppKeys>().is_err());
    }
}
