//! OpenIM's official JS client SDK, unchanged, against the `confab`
//! binary (the release one `.ci/run` builds, named by
//! `CONFAB_SDK_TEST_SERVER`; else this build's): `tests/openim-sdk/flows.mjs`
//! drives two and three SDK users (login, chat, read, revoke, groups,
//! friends, files, history, kicks, and a Confab `/ws` client beside them).
//! Needs Node and the pinned packages (`npm ci` in `tests/openim-sdk`,
//! which `.ci/run` does); without them the test is skipped, and under
//! `CI=true` it fails.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/openim-sdk")
}

/// Whether Node and the SDK are installed; under CI they must be.
fn sdk_ready() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let installed = sdk_dir().join("node_modules/@openim/client-sdk").exists();
    if node && installed {
        return true;
    }
    let why =
        format!("node found: {node}; SDK installed (npm ci in tests/openim-sdk): {installed}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the OpenIM SDK test cannot run: {why}");
    }
    eprintln!("skipping the OpenIM SDK test: {why}");
    false
}

#[test]
fn openim_js_sdk_works_unchanged() {
    if !sdk_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = std::env::var("CONFAB_SDK_TEST_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_confab").to_owned());
    let mut server = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CONFAB_ADMIN_SECRET", "sdk-secret")
        .env("CONFAB_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("CONFAB_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(server.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                let _ = server.kill();
                panic!("the server did not start")
            });
        if let Some(rest) = line.split("listen=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let out = Command::new("node")
        .arg("flows.mjs")
        .current_dir(sdk_dir())
        .env("CONFAB_URL", format!("http://{addr}"))
        .env("CONFAB_SECRET", "sdk-secret")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let server_log: Vec<String> = rx.try_iter().collect();
    assert!(
        out.status.success(),
        "the SDK flows failed:\n{stdout}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server_log.join("\n")
    );
    for flow in [
        "ok login",
        "ok one-to-one send, live receipt and the sender seq",
        "ok conversation list with last message and unread count",
        "ok mark as read: the unread drops on the other device",
        "ok conversation settings reach every device",
        "ok revoke",
        "ok a Confab /ws client and the admin API talk with the SDK",
        "ok an image message, fetched back by the other user",
        "ok a group created through the SDK",
        "ok online status subscription",
        "ok a friend request and its acceptance",
        "ok log out, log in on a fresh SDK, see the history",
        "ok a second login on the same platform kicks the first",
    ] {
        assert!(
            stdout.lines().any(|l| l == flow),
            "{flow:?} missing from:\n{stdout}"
        );
    }
}
