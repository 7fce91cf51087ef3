//! Configuration: the TOML file, then `CONFAB_*` environment variables, then
//! flags. One struct, `Settings`, is both the file's shape and the flags (with
//! their environment variables), so the three layers cannot drift apart;
//! `confab.example.toml` documents every key and a test keeps it in sync.

mod yunbay;

pub use yunbay::{AppKeys, YunbayConfig};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Settings as given: every field optional, so layers can be merged.
#[derive(Debug, Clone, Default, Deserialize, Serialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the API listens on [default: 127.0.0.1:10000]
    #[arg(long, env = "CONFAB_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// A second address serving only OpenIM's v3 client gateway, at any path, as OpenIM's own port 10001 does [default: empty: the main listener serves it at /]
    #[arg(long, env = "CONFAB_OPENIM_GATEWAY_LISTEN")]
    pub openim_gateway_listen: Option<String>,
    /// Directory for the SQLite database and generated secrets [default: ./data]
    #[arg(long, env = "CONFAB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://... [default: SQLite in the data dir]
    #[arg(long, env = "CONFAB_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Secret app servers present to get tokens [default: generated into the data dir]
    #[arg(long, env = "CONFAB_ADMIN_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,
    /// Comma-separated ids of the app administrators [default: openIM123456]
    #[arg(long, env = "CONFAB_ADMIN_USER_IDS", value_delimiter = ',')]
    pub admin_user_ids: Option<Vec<String>>,
    /// Key that signs tokens [default: generated into the data dir]
    #[arg(long, env = "CONFAB_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of tokens in seconds [default: 7776000, 90 days]
    #[arg(long, env = "CONFAB_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<i64>,
    /// "process" (a commit survives a crash) or "fsync" (also power loss) [default: process]
    #[arg(long, env = "CONFAB_DURABILITY")]
    pub durability: Option<String>,
    /// Sends the SQLite store remembers to recognise a resend by its client msg id [default: 1000000]
    #[arg(long, env = "CONFAB_RESEND_WINDOW")]
    pub resend_window: Option<usize>,
    /// Log filter, in tracing's EnvFilter syntax [default: info]
    #[arg(long, env = "CONFAB_LOG")]
    pub log: Option<String>,
    /// Seconds after sending during which a sender may revoke [default: 120]
    #[arg(long, env = "CONFAB_REVOKE_WINDOW_SECS")]
    pub revoke_window_secs: Option<i64>,
    /// Largest message content, in bytes of JSON [default: 65536]
    #[arg(long, env = "CONFAB_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// A WebSocket client silent this long is disconnected [default: 60]
    #[arg(long, env = "CONFAB_HEARTBEAT_TIMEOUT_SECS")]
    pub heartbeat_timeout_secs: Option<u64>,
    /// Frames queued per WebSocket client before it is cut off as too slow [default: 1024]
    #[arg(long, env = "CONFAB_WS_QUEUE_CAPACITY")]
    pub ws_queue_capacity: Option<usize>,
    /// WebSocket read and write buffer per connection, in bytes [default: 2048]
    #[arg(long, env = "CONFAB_WS_BUFFER_BYTES")]
    pub ws_buffer_bytes: Option<usize>,
    /// This node's id, the prefix of its session ids [default: random]
    #[arg(long, env = "CONFAB_NODE_ID")]
    pub node_id: Option<String>,
    /// Comma-separated CIDR networks whose callers are trusted [default: 127.0.0.0/8,::1/128]
    #[arg(long, env = "CONFAB_TRUSTED_NETWORKS", value_delimiter = ',')]
    pub trusted_networks: Option<Vec<String>>,
    /// Requests a minute to credential routes (tokens, logins, SMS) from one address off the trusted networks; 0: no limit [default: 60]
    #[arg(long, env = "CONFAB_RATE_LIMIT_CREDENTIALS_PER_IP")]
    pub rate_limit_credentials_per_ip: Option<u32>,
    /// Login attempts a minute (password, SMS code) for one account; 0: no limit [default: 10]
    #[arg(long, env = "CONFAB_RATE_LIMIT_LOGINS_PER_ACCOUNT")]
    pub rate_limit_logins_per_account: Option<u32>,
    /// WebSocket connects a minute from one address off the trusted networks; 0: no limit [default: 120]
    #[arg(long, env = "CONFAB_RATE_LIMIT_CONNECTS_PER_IP")]
    pub rate_limit_connects_per_ip: Option<u32>,
    /// WebSocket connections open at once on this node; 0: no cap [default: 50000]
    #[arg(long, env = "CONFAB_WS_MAX_CONNECTIONS")]
    pub ws_max_connections: Option<usize>,
    /// WebSocket connections open at once from one address off the trusted networks; 0: no cap [default: 1000]
    #[arg(long, env = "CONFAB_WS_MAX_CONNECTIONS_PER_IP")]
    pub ws_max_connections_per_ip: Option<usize>,
    /// The Easemob proxy's organization name [default: confab]
    #[arg(long, env = "CONFAB_EASEMOB_ORG")]
    pub easemob_org: Option<String>,
    /// The Easemob proxy's application name [default: confab]
    #[arg(long, env = "CONFAB_EASEMOB_APP")]
    pub easemob_app: Option<String>,
    /// Client id app servers outside the trusted networks present to /hx/getToken [default: generated into the data dir]
    #[arg(long, env = "CONFAB_EASEMOB_CLIENT_ID")]
    pub easemob_client_id: Option<String>,
    /// Client secret that goes with easemob_client_id [default: generated into the data dir]
    #[arg(long, env = "CONFAB_EASEMOB_CLIENT_SECRET", hide_env_values = true)]
    pub easemob_client_secret: Option<String>,
    /// Lifetime of Easemob app tokens in seconds [default: 5184000, 60 days]
    #[arg(long, env = "CONFAB_EASEMOB_TOKEN_TTL_SECS")]
    pub easemob_token_ttl_secs: Option<i64>,
    /// Most targets of one /hx/sendMessages [default: 20]
    #[arg(long, env = "CONFAB_EASEMOB_MAX_TARGETS")]
    pub easemob_max_targets: Option<usize>,
    /// Where SMS codes go: "log" or "http" [default: log]
    #[arg(long, env = "CONFAB_SMS_PROVIDER")]
    pub sms_provider: Option<String>,
    /// With sms_provider = "http": the URL codes are POSTed to
    #[arg(long, env = "CONFAB_SMS_HTTP_URL")]
    pub sms_http_url: Option<String>,
    /// Lifetime of an SMS code in seconds [default: 300]
    #[arg(long, env = "CONFAB_SMS_CODE_TTL_SECS")]
    pub sms_code_ttl_secs: Option<i64>,
    /// Seconds between two codes to one phone [default: 60]
    #[arg(long, env = "CONFAB_SMS_RESEND_INTERVAL_SECS")]
    pub sms_resend_interval_secs: Option<i64>,
    /// Codes one phone gets a day [default: 10]
    #[arg(long, env = "CONFAB_SMS_DAILY_LIMIT")]
    pub sms_daily_limit: Option<i64>,
    /// Codes one client IP asks for an hour [default: 30]
    #[arg(long, env = "CONFAB_SMS_IP_HOURLY_LIMIT")]
    pub sms_ip_hourly_limit: Option<i64>,
    /// Wrong tries that void a code [default: 5]
    #[arg(long, env = "CONFAB_SMS_MAX_ATTEMPTS")]
    pub sms_max_attempts: Option<i64>,
    /// The URL clients reach this server at; files are served under it [default: http:// + listen]
    #[arg(long, env = "CONFAB_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest avatar upload in bytes [default: 5242880]
    #[arg(long, env = "CONFAB_AVATAR_MAX_BYTES")]
    pub avatar_max_bytes: Option<usize>,
    /// Where uploaded files are kept: empty (the data dir) or s3://BUCKET[/PREFIX]
    #[arg(long, env = "CONFAB_FILE_STORE_URL")]
    pub file_store_url: Option<String>,
    /// The S3 endpoint, for S3-compatible stores (e.g. http://127.0.0.1:9000)
    #[arg(long, env = "CONFAB_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The S3 region [default: AWS_REGION, else us-east-1]
    #[arg(long, env = "CONFAB_S3_REGION")]
    pub s3_region: Option<String>,
    /// The S3 access key id [default: AWS_ACCESS_KEY_ID]
    #[arg(long, env = "CONFAB_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// The S3 secret access key [default: AWS_SECRET_ACCESS_KEY]
    #[arg(long, env = "CONFAB_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// yunbay API signing keys by app id: APP=KEY,... (in the file a table)
    #[arg(long, env = "CONFAB_YUNBAY_APP_KEYS", hide_env_values = true)]
    pub yunbay_app_keys: Option<AppKeys>,
    /// Accept the yunbay spec's debug signature in place of real ones (development only) [default: false]
    #[arg(long, env = "CONFAB_YUNBAY_DEBUG_SIGN")]
    pub yunbay_debug_sign: Option<bool>,
    /// The app's account service that yunbay profiles are refreshed from (GET URL?user_id=N); empty: from the request
    #[arg(long, env = "CONFAB_YUNBAY_ACCOUNT_URL")]
    pub yunbay_account_url: Option<String>,
    /// How long the account service may take to answer, in milliseconds [default: 3000]
    #[arg(long, env = "CONFAB_YUNBAY_ACCOUNT_TIMEOUT_MS")]
    pub yunbay_account_timeout_ms: Option<u64>,
    /// How long a yunbay broadcast still reaches users who connect after it, in seconds [default: 604800]
    #[arg(long, env = "CONFAB_YUNBAY_BROADCAST_TTL_SECS")]
    pub yunbay_broadcast_ttl_secs: Option<i64>,
    /// Lifetime of yunbay user tokens (X-Yf-Token), in seconds [default: 2592000]
    #[arg(long, env = "CONFAB_YUNBAY_TOKEN_TTL_SECS")]
    pub yunbay_token_ttl_secs: Option<i64>,
}

macro_rules! merge_fields {
    ($low:ident, $high:ident, $($field:ident),*) => {
        Settings { $($field: $high.$field.or($low.$field)),* }
    };
}

impl Settings {
    /// `self` overridden by every field `over` sets.
    pub fn merged(self, over: Settings) -> Settings {
        merge_fields!(
            self,
            over,
            listen,
            openim_gateway_listen,
            data_dir,
            database_url,
            admin_secret,
            admin_user_ids,
            jwt_secret,
            token_ttl_secs,
            durability,
            resend_window,
            log,
            revoke_window_secs,
            max_message_bytes,
            heartbeat_timeout_secs,
            ws_queue_capacity,
            ws_buffer_bytes,
            node_id,
            trusted_networks,
            rate_limit_credentials_per_ip,
            rate_limit_logins_per_account,
            rate_limit_connects_per_ip,
            ws_max_connections,
            ws_max_connections_per_ip,
            easemob_org,
            easemob_app,
            easemob_client_id,
            easemob_client_secret,
            easemob_token_ttl_secs,
            easemob_max_targets,
            sms_provider,
            sms_http_url,
            sms_code_ttl_secs,
            sms_resend_interval_secs,
            sms_daily_limit,
            sms_ip_hourly_limit,
            sms_max_attempts,
            public_url,
            avatar_max_bytes,
            file_store_url,
            s3_endpoint,
            s3_region,
            s3_access_key_id,
            s3_secret_access_key,
            yunbay_app_keys,
            yunbay_debug_sign,
            yunbay_account_url,
            yunbay_account_timeout_ms,
            yunbay_broadcast_ttl_secs,
            yunbay_token_ttl_secs
        )
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))
    }
}

/// Where a secret came from, for the start-up message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Config,
    Stored,
    Generated,
}

/// The validated configuration the server runs with.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub openim_gateway_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub admin_secret: String,
    pub admin_secret_source: SecretSource,
    pub admin_user_ids: Vec<String>,
    pub jwt_secret: String,
    pub token_ttl_secs: i64,
    pub durability: confab_store::Durability,
    pub resend_window: usize,
    pub log: String,
    pub revoke_window_secs: i64,
    pub max_message_bytes: usize,
    pub heartbeat_timeout_secs: u64,
    pub ws_queue_capacity: usize,
    pub ws_buffer_bytes: usize,
    pub node_id: String,
    pub trusted_networks: Vec<ipnet::IpNet>,
    pub rate_limits: confab_service::RateLimits,
    pub ws_max_connections: usize,
    pub ws_max_connections_per_ip: usize,
    pub easemob: EasemobConfig,
    pub sms: SmsConfig,
    /// None: `http://` + the address the server is bound to.
    pub public_url: Option<String>,
    pub avatar_max_bytes: usize,
    pub file_store: FileStoreConfig,
    pub yunbay: YunbayConfig,
}

/// Where uploaded files are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum FileStoreConfig {
    /// The data dir's `files/`.
    Local,
    S3 {
        /// `s3://BUCKET[/PREFIX]`.
        url: String,
        endpoint: Option<String>,
        region: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
    },
}

impl std::fmt::Debug for FileStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileStoreConfig::Local => f.write_str("Local"),
            FileStoreConfig::S3 { url, endpoint, .. } => f
                .debug_struct("S3")
                .field("url", url)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
        }
    }
}

/// Where SMS codes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    Log,
    Http(String),
}

#[derive(Debug, Clone)]
pub struct SmsConfig {
    pub provider: SmsProvider,
    pub settings: confab_service::SmsSettings,
}

/// The Easemob proxy's settings.
#[derive(Clone)]
pub struct EasemobConfig {
    pub org: String,
    pub app: String,
    pub client_id: String,
    pub client_secret: String,
    pub token_ttl_secs: i64,
    pub max_targets: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("openim_gateway_listen", &self.openim_gateway_listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("admin_user_ids", &self.admin_user_ids)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Secrets generated on first start, kept in the data dir.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct StoredSecrets {
    admin_secret: Option<String>,
    jwt_secret: Option<String>,
    easemob_client_id: Option<String>,
    easemob_client_secret: Option<String>,
}

pub const SECRETS_FILE: &str = "secrets.toml";

fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

impl Settings {
    /// The data dir and the database URL these settings name, defaults
    /// filled in (SQLite in the data dir). `confab backup` and `restore`
    /// find the database as `serve` does through this.
    pub fn database_location(&self) -> (PathBuf, String) {
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = match self.database_url.clone().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("confab.db").display()),
        };
        (data_dir, database_url)
    }
}

impl Config {
    /// Validates settings, fills defaults, and loads or generates the
    /// secrets the settings do not give.
    pub fn resolve(s: Settings) -> anyhow::Result<Config> {
        let yunbay = YunbayConfig::from_settings(&s)?;
        let (data_dir, database_url) = s.database_location();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        confab_store::BackendKind::of_url(&database_url)
            .map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
        let admin_user_ids: Vec<String> = s
            .admin_user_ids
            .unwrap_or_else(|| vec!["openIM123456".to_owned()])
            .into_iter()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        for id in &admin_user_ids {
            confab_core::UserId::parse("admin_user_ids", id)
                .map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
        }
        let token_ttl_secs = s.token_ttl_secs.unwrap_or(90 * 24 * 3600);
        if token_ttl_secs <= 0 {
            bail!("token_ttl_secs: must be positive");
        }
        let durability = match s.durability.as_deref().unwrap_or("process") {
            "process" => confab_store::Durability::Process,
            "fsync" => confab_store::Durability::Fsync,
            other => bail!("durability: expected \"process\" or \"fsync\", got {other:?}"),
        };

        let resend_window = s
            .resend_window
            .unwrap_or(confab_store::DEFAULT_RESEND_WINDOW);
        if resend_window == 0 {
            bail!("resend_window: must be positive (0 would take every resend as a new message)");
        }

        let secrets_path = data_dir.join(SECRETS_FILE);
        let mut stored: StoredSecrets = if secrets_path.exists() {
            let text = std::fs::read_to_string(&secrets_path)
                .with_context(|| format!("reading {}", secrets_path.display()))?;
            toml::from_str(&text).with_context(|| format!("in {}", secrets_path.display()))?
        } else {
            StoredSecrets::default()
        };
        let mut changed = false;
        let mut pick =
            |given: Option<String>, slot: &mut Option<String>| -> (String, SecretSource) {
                match given.filter(|v| !v.is_empty()) {
                    Some(v) => (v, SecretSource::Config),
                    None => match slot.clone() {
                        Some(v) => (v, SecretSource::Stored),
                        None => {
                            let v = random_secret();
                            *slot = Some(v.clone());
                            changed = true;
                            (v, SecretSource::Generated)
                        }
                    },
                }
            };
        let (admin_secret, admin_secret_source) = pick(s.admin_secret, &mut stored.admin_secret);
        let (jwt_secret, _) = pick(s.jwt_secret, &mut stored.jwt_secret);
        let (easemob_client_id, _) = pick(s.easemob_client_id, &mut stored.easemob_client_id);
        let (easemob_client_secret, _) =
            pick(s.easemob_client_secret, &mut stored.easemob_client_secret);
        let positive = |name: &str, v: u64| -> anyhow::Result<()> {
            if v == 0 {
                bail!("{name}: must be positive");
            }
            Ok(())
        };
        let revoke_window_secs = s.revoke_window_secs.unwrap_or(120);
        if revoke_window_secs < 0 {
            bail!("revoke_window_secs: must not be negative");
        }
        let max_message_bytes = s.max_message_bytes.unwrap_or(64 * 1024);
        positive("max_message_bytes", max_message_bytes as u64)?;
        let heartbeat_timeout_secs = s.heartbeat_timeout_secs.unwrap_or(60);
        positive("heartbeat_timeout_secs", heartbeat_timeout_secs)?;
        let ws_queue_capacity = s.ws_queue_capacity.unwrap_or(1024);
        positive("ws_queue_capacity", ws_queue_capacity as u64)?;
        let ws_buffer_bytes = s.ws_buffer_bytes.unwrap_or(2048);
        if ws_buffer_bytes < 512 {
            bail!("ws_buffer_bytes: must be at least 512");
        }
        let node_id = match s.node_id.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => random_secret()[..8].to_owned(),
        };
        let trusted_networks = s
            .trusted_networks
            .unwrap_or_else(|| vec!["127.0.0.0/8".to_owned(), "::1/128".to_owned()])
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .map(|n| {
                n.parse::<ipnet::IpNet>()
                    .with_context(|| format!("trusted_networks: {n:?} is not a CIDR network"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let easemob_token_ttl_secs = s.easemob_token_ttl_secs.unwrap_or(60 * 24 * 3600);
        if easemob_token_ttl_secs <= 0 {
            bail!("easemob_token_ttl_secs: must be positive");
        }
        let easemob_max_targets = s.easemob_max_targets.unwrap_or(20);
        if !(1..=1000).contains(&easemob_max_targets) {
            bail!("easemob_max_targets: must be between 1 and 1000");
        }
        let easemob = EasemobConfig {
            org: s
                .easemob_org
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "confab".to_owned()),
            app: s
                .easemob_app
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "confab".to_owned()),
            client_id: easemob_client_id,
            client_secret: easemob_client_secret,
            token_ttl_secs: easemob_token_ttl_secs,
            max_targets: easemob_max_targets,
        };
        let sms_provider = match s.sms_provider.as_deref().unwrap_or("log") {
            "log" => SmsProvider::Log,
            "http" => match s.sms_http_url.filter(|u| !u.is_empty()) {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    SmsProvider::Http(url)
                }
                Some(url) => bail!("sms_http_url: expected an http(s) URL, got {url:?}"),
                None => bail!("sms_http_url: required with sms_provider = \"http\""),
            },
            other => bail!("sms_provider: expected \"log\" or \"http\", got {other:?}"),
        };
        let sms_positive = |name: &str, v: Option<i64>, default: i64| -> anyhow::Result<i64> {
            let v = v.unwrap_or(default);
            if v <= 0 {
                bail!("{name}: must be positive");
            }
            Ok(v)
        };
        let sms = SmsConfig {
            provider: sms_provider,
            settings: confab_service::SmsSettings {
                code_ttl_secs: sms_positive("sms_code_ttl_secs", s.sms_code_ttl_secs, 300)?,
                resend_interval_secs: s.sms_resend_interval_secs.unwrap_or(60).max(0),
                daily_limit: sms_positive("sms_daily_limit", s.sms_daily_limit, 10)?,
                ip_hourly_limit: sms_positive("sms_ip_hourly_limit", s.sms_ip_hourly_limit, 30)?,
                max_attempts: sms_positive("sms_max_attempts", s.sms_max_attempts, 5)?,
            },
        };
        let public_url = s
            .public_url
            .map(|u| u.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("public_url: expected an http(s) URL, got {url:?}");
            }
        }
        let given = |v: Option<String>| v.filter(|v| !v.is_empty());
        let file_store = match given(s.file_store_url) {
            None => FileStoreConfig::Local,
            Some(url) if url.starts_with("s3://") && url.len() > "s3://".len() => {
                FileStoreConfig::S3 {
                    url,
                    endpoint: given(s.s3_endpoint),
                    region: given(s.s3_region),
                    access_key_id: given(s.s3_access_key_id),
                    secret_access_key: given(s.s3_secret_access_key),
                }
            }
            Some(url) => {
                bail!("file_store_url: expected s3://BUCKET[/PREFIX] or empty, got {url:?}")
            }
        };
        let avatar_max_bytes = s.avatar_max_bytes.unwrap_or(5 * 1024 * 1024);
        positive("avatar_max_bytes", avatar_max_bytes as u64)?;
        if changed {
            write_private(&secrets_path, &toml::to_string(&stored)?)?;
        }
        Ok(Config {
            listen: s
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 10000))),
            openim_gateway_listen: match s.openim_gateway_listen.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(at) => Some(at.parse().with_context(|| {
                    format!("openim_gateway_listen: expected HOST:PORT or empty, got {at:?}")
                })?),
            },
            data_dir,
            database_url,
            admin_secret,
            admin_secret_source,
            admin_user_ids,
            jwt_secret,
            token_ttl_secs,
            durability,
            resend_window,
            log: s.log.unwrap_or_else(|| "info".to_owned()),
            revoke_window_secs,
            max_message_bytes,
            heartbeat_timeout_secs,
            ws_queue_capacity,
            ws_buffer_bytes,
            node_id,
            trusted_networks,
            rate_limits: confab_service::RateLimits {
                credentials_per_ip: s.rate_limit_credentials_per_ip.unwrap_or(60),
                logins_per_account: s.rate_limit_logins_per_account.unwrap_or(10),
                connects_per_ip: s.rate_limit_connects_per_ip.unwrap_or(120),
            },
            ws_max_connections: s.ws_max_connections.unwrap_or(50_000),
            ws_max_connections_per_ip: s.ws_max_connections_per_ip.unwrap_or(1000),
            easemob,
            sms,
            public_url,
            avatar_max_bytes,
            file_store,
            yunbay,
        })
    }

    pub fn secrets_path(&self) -> PathBuf {
        self.data_dir.join(SECRETS_FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_documents_every_setting() {
        let text = include_str!("../../../confab.example.toml");
        let settings: Settings =
            toml::from_str(text).expect("example parses with deny_unknown_fields");
        let value = serde_json::to_value(&settings).expect("serialises");
        let missing: Vec<&String> = value
            .as_object()
            .expect("object")
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k)
            .collect();
        assert!(missing.is_empty(), "confab.example.toml lacks {missing:?}");
    }

    #[test]
    fn later_layers_win() {
        let file = Settings {
            log: Some("debug".into()),
            token_ttl_secs: Some(5),
            ..Default::default()
        };
        let flags = Settings {
            token_ttl_secs: Some(9),
            ..Default::default()
        };
        let merged = file.merged(flags);
        assert_eq!(merged.log.as_deref(), Some("debug"));
        assert_eq!(merged.token_ttl_secs, Some(9));
    }

    #[test]
    fn secrets_are_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let first = Config::resolve(settings.clone()).unwrap();
        assert_eq!(first.admin_secret_source, SecretSource::Generated);
        assert_eq!(first.admin_secret.len(), 48);
        let second = Config::resolve(settings.clone()).unwrap();
        assert_eq!(second.admin_secret_source, SecretSource::Stored);
        assert_eq!(
            (second.admin_secret, second.jwt_secret),
            (first.admin_secret, first.jwt_secret)
        );
        let given = Config::resolve(Settings {
            admin_secret: Some("tuoyun".into()),
            ..settings
        })
        .unwrap();
        assert_eq!(
            (given.admin_secret.as_str(), given.admin_secret_source),
            ("tuoyun", SecretSource::Config)
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = Settings {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        for bad in [
            Settings {
                durability: Some("sometimes".into()),
                ..base.clone()
            },
            Settings {
                database_url: Some("mysql://x".into()),
                ..base.clone()
            },
            Settings {
                token_ttl_secs: Some(0),
                ..base.clone()
            },
            Settings {
                admin_user_ids: Some(vec!["a b".into()]),
                ..base.clone()
            },
        ] {
            assert!(Config::resolve(bad).is_err());
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
