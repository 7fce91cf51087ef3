//! The embedded backend's message log (migration 0007): a data dir written
//! by the schema before it opens with every message, seq and resend kept,
//! and resends are found after a restart through the rebuilt index of
//! recent sends.

// Test helpers fail loudly: a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(unused_macros)]
mod support;

use confab_core::message::single_conversation_id;
use confab_core::store::{MessageStore, Store};
use confab_store::{Durability, SqliteStore};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::borrow::Cow;
use std::str::FromStr;
use support::{chat, seed_users, uid};

fn url_in(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("confab.db").display())
}

/// Writes a data dir as the schema of migrations 0001–0006 left it: the
/// same migration records sqlx keeps, messages clustered by (conversation,
/// seq) with the unique (sender, client msg id) index, two conversations
/// interleaved.
async fn write_0006_data_dir(url: &str) {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= 6)
            .cloned()
            .collect(),
    );
    migrator.run(&pool).await.unwrap();
    let old_index: (String,) =
        sqlx::query_as("SELECT sql FROM sqlite_master WHERE name = 'messages_by_client_id'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        old_index.0.contains("sender_id, client_msg_id"),
        "{}",
        old_index.0
    );

    for (n, id) in ["alice", "bob", "carol"].into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO users (user_id, numeric_id, created_at, updated_at) VALUES (?, ?, 0, 0)",
        )
        .bind(id)
        .bind(n as i64 + 1)
        .execute(&pool)
        .await
        .unwrap();
    }
    let ab = single_conversation_id(&uid("alice"), &uid("bob"));
    let ac = single_conversation_id(&uid("alice"), &uid("carol"));
    for (conv, peer) in [(&ab, "bob"), (&ac, "carol")] {
        sqlx::query("INSERT INTO conversations (conversation_id, session_type, max_seq, created_at) VALUES (?, 1, 3, 0)")
            .bind(conv)
            .execute(&pool)
            .await
            .unwrap();
        for (user, other) in [("alice", peer), (peer, "alice")] {
            sqlx::query("INSERT INTO user_conversations (user_id, conversation_id, session_type, peer_id, updated_at) VALUES (?, ?, 1, ?, 0)")
                .bind(user)
                .bind(conv)
                .bind(other)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    // Sent in this order: ab 1, ac 1, ab 2, ac 2, ab 3, ac 3 (ac 2 revoked).
    for i in 0..6i64 {
        let (conv, recv) = if i % 2 == 0 {
            (&ab, "bob")
        } else {
            (&ac, "carol")
        };
        let seq = i / 2 + 1;
        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, sender_id, \
             sender_platform, session_type, recv_id, content_type, content, send_time, status) \
             VALUES (?, ?, ?, ?, 'alice', 1, 1, ?, 101, ?, ?, ?)",
        )
        .bind(conv)
        .bind(seq)
        .bind(format!("srv-{i}"))
        .bind(format!("old-{i}"))
        .bind(recv)
        .bind(format!("{{\"text\":\"old {i}\"}}"))
        .bind(1000 + i)
        .bind(if i == 3 { 1 } else { 0 })
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn a_data_dir_of_the_clustered_schema_migrates_forward() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    write_0006_data_dir(&url).await;

    let store = SqliteStore::open(&url, Durability::Process).await.unwrap();
    let s: &dyn Store = &store;
    let ab = single_conversation_id(&uid("alice"), &uid("bob"));
    let ac = single_conversation_id(&uid("alice"), &uid("carol"));

    for (conv, first) in [(&ab, 0), (&ac, 1)] {
        assert_eq!(s.max_seq(conv).await.unwrap(), 3);
        let got = s.get_messages(&uid("bob"), conv, 1, 10, 10).await.unwrap();
        let seqs: Vec<i64> = got.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3], "{conv}");
        let ids: Vec<String> = got.iter().map(|m| m.client_msg_id.clone()).collect();
        let want: Vec<String> = (0..3).map(|k| format!("old-{}", first + 2 * k)).collect();
        assert_eq!(ids, want, "{conv}");
        assert_eq!(got[0].content, format!("{{\"text\":\"old {first}\"}}"));
    }
    let revoked = s.get_message(&ac, 2).await.unwrap().unwrap();
    assert_eq!(revoked.client_msg_id, "old-3");
    assert_eq!(
        revoked.status,
        confab_core::message::MessageStatus::Revoked,
        "the revoked status is kept"
    );

    // A resend of a message from before the migration returns its first
    // result; a new send takes the next seq.
    let mut resend = chat("alice", "bob", "old-2", "again");
    resend.message.server_msg_id = "srv-new".into();
    let fresh = chat("alice", "bob", "new-1", "new");
    let out = s.append_messages(&[resend, fresh]).await.unwrap();
    assert!(out[0].duplicate);
    assert_eq!(out[0].message.seq, 2);
    assert_eq!(out[0].message.server_msg_id, "srv-2");
    assert!(!out[1].duplicate);
    assert_eq!(out[1].message.seq, 4);

    // The layout is the log's: a rowid table, no (sender, client) index.
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::from_str(&url)
                .unwrap()
                .read_only(true),
        )
        .await
        .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let names: Vec<&str> = indexes.iter().map(|(n,)| n.as_str()).collect();
    assert_eq!(names, ["messages_broadcast_by_time", "messages_by_seq"]);
    let order: Vec<(String,)> = sqlx::query_as("SELECT client_msg_id FROM messages ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    let order: Vec<&str> = order.iter().map(|(c,)| c.as_str()).collect();
    assert_eq!(
        order,
        ["old-0", "old-1", "old-2", "old-3", "old-4", "old-5", "new-1"]
    );
}

#[tokio::test]
async fn a_resend_after_a_restart_returns_the_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    let first = {
        let store = SqliteStore::open(&url, Durability::Process).await.unwrap();
        seed_users(&store, &["alice", "bob"]).await;
        let batch: Vec<_> = (0..50)
            .map(|i| chat("alice", "bob", &format!("c{i}"), "hi"))
            .collect();
        store.append_messages(&batch).await.unwrap()
    };
    let store = SqliteStore::open(&url, Durability::Process).await.unwrap();
    let mut again = chat("alice", "bob", "c17", "changed");
    again.message.server_msg_id = "other".into();
    let out = store.append_messages(&[again]).await.unwrap();
    assert!(out[0].duplicate);
    assert_eq!(out[0].message.seq, first[17].message.seq);
    assert_eq!(
        out[0].message.server_msg_id,
        first[17].message.server_msg_id
    );
    assert_eq!(out[0].message.content, "{\"text\":\"hi\"}");
    // Another sender's message with the same client msg id is its own.
    seed_users(&store, &["carol"]).await;
    let out = store
        .append_messages(&[chat("bob", "carol", "c17", "mine")])
        .await
        .unwrap();
    assert!(!out[0].duplicate);
    assert_eq!(out[0].message.seq, 1);
}

#[tokio::test]
async fn a_resend_older_than_the_window_is_a_new_message() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    let store = SqliteStore::open_with(&url, Durability::Process, 3)
        .await
        .unwrap();
    seed_users(&store, &["alice", "bob"]).await;
    for i in 0..5 {
        store
            .append_messages(&[chat("alice", "bob", &format!("c{i}"), "hi")])
            .await
            .unwrap();
    }
    // c2..c4 are the window: still resends.
    let out = store
        .append_messages(&[chat("alice", "bob", "c2", "hi")])
        .await
        .unwrap();
    assert!(out[0].duplicate);
    assert_eq!(out[0].message.seq, 3);
    // c0 has left it: stored again, with the next seq (documented in
    // docs/decisions.md).
    let out = store
        .append_messages(&[chat("alice", "bob", "c0", "hi")])
        .await
        .unwrap();
    assert!(!out[0].duplicate);
    assert_eq!(out[0].message.seq, 6);
    drop(store);

    // The window is rebuilt from the end of the log on open.
    let store = SqliteStore::open_with(&url, Durability::Process, 3)
        .await
        .unwrap();
    let out = store
        .append_messages(&[
            chat("alice", "bob", "c4", "hi"),
            chat("alice", "bob", "c1", "hi"),
        ])
        .await
        .unwrap();
    assert!(out[0].duplicate, "c4 is among the last three");
    assert_eq!(out[0].message.seq, 5);
    assert!(!out[1].duplicate, "c1 is not");
    assert_eq!(out[1].message.seq, 7);
}

/// Commits do not checkpoint (the checkpointer task does, beside the
/// writer): what is committed reaches the database file while the store
/// stays open, and the WAL is started over.
#[tokio::test]
async fn the_checkpointer_copies_the_wal_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    let db = dir.path().join("confab.db");
    let store = SqliteStore::open(&url, Durability::Process).await.unwrap();
    seed_users(&store, &["alice", "bob"]).await;
    let size_before = std::fs::metadata(&db).unwrap().len();
    let batch: Vec<_> = (0..2000)
        .map(|i| chat("alice", "bob", &format!("c{i}"), &"x".repeat(200)))
        .collect();
    store.append_messages(&batch).await.unwrap();
    let mut grown = false;
    for _ in 0..100 {
        if std::fs::metadata(&db).unwrap().len() > size_before + 400_000 {
            grown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(grown, "the database file did not take the committed pages");
    let copied: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&SqlitePoolOptions::new().connect(&url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(copied.1, copied.2, "every WAL page is in the database");
}

/// One server at a time: a second one on the same database would keep an
/// index of recent sends of its own and store a resend as new.
#[tokio::test]
async fn a_second_lock_on_the_same_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    let first = SqliteStore::lock(&url).unwrap();
    assert!(first.is_some());
    let e = SqliteStore::lock(&url).expect_err("the second lock is refused");
    assert!(
        e.log_message().contains("open in another Confab process"),
        "{}",
        e.log_message()
    );
    drop(first);
    assert!(
        SqliteStore::lock(&url).unwrap().is_some(),
        "free once released"
    );
    assert!(SqliteStore::lock("sqlite::memory:").unwrap().is_none());
}
