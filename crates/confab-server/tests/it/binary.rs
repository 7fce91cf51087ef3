//! The `confab` binary itself: it starts on a fresh data dir, generates its
//! secrets, serves, and shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn binary_starts_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CONFAB_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("CONFAB_ADMIN_SECRET")
        .env_remove("CONFAB_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("no 'serving' line; output so far: {lines:#?}")
            });
        lines.push(line.clone());
        if let Some(rest) = line.split("listen=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(
        lines
            .iter()
            .any(|l| l.contains("generated one and stored it in")),
        "the generated secret is announced: {lines:#?}"
    );
    let secrets = std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap();
    let secret = secrets
        .lines()
        .find_map(|l| l.strip_prefix("admin_secret = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = confab_client::OpenImClient::new(&format!("http://{addr}"));
    let token = rt
        .block_on(client.user_token(&secret, "openIM123456", 8))
        .unwrap();
    assert!(!token.is_empty());
    let wrong = rt
        .block_on(client.call(
            "/auth/user_token",
            &serde_json::json!({"secret": "", "platform": 8, "userID": "openIM123456"}),
        ))
        .unwrap();
    assert_eq!(wrong.err_code(), 801, "there is no default secret");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful exit on SIGTERM: {exit:?}");
}
