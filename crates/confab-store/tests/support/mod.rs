//! What both contract files share: ids, seeded users, a store of each
//! backend, and `contract!`, which makes a SQLite and a PostgreSQL test of
//! each case.

#![allow(dead_code)]

use confab_core::message::{
    single_conversation_id, Message, MessageStatus, NewMessage, SessionType,
};
use confab_core::model::User;
use confab_core::store::Store;
use confab_core::UserId;
use confab_store::{Durability, PostgresStore, SqliteStore};

pub fn uid(s: &str) -> UserId {
    UserId::parse("userID", s).unwrap()
}

pub fn user(id: &str, now: i64) -> User {
    let mut u = User::new(uid(id), now);
    u.nickname = format!("nick {id}");
    u
}

pub async fn seed_users(s: &dyn Store, ids: &[&str]) {
    let users: Vec<User> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| user(id, i as i64))
        .collect();
    s.create_users(&users).await.unwrap();
}

/// A one-to-one message from `from` to `to`, sent at 1000.
pub fn chat(from: &str, to: &str, client_msg_id: &str, text: &str) -> NewMessage {
    let (a, b) = (uid(from), uid(to));
    NewMessage {
        message: Message {
            conversation_id: single_conversation_id(&a, &b),
            seq: 0,
            server_msg_id: format!("srv-{from}-{client_msg_id}"),
            client_msg_id: client_msg_id.into(),
            sender_id: a.clone(),
            sender_platform: 1,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: SessionType::Single,
            recv_id: to.into(),
            content_type: 101,
            content: format!("{{\"text\":\"{text}\"}}"),
            send_time: 1000,
            status: MessageStatus::Normal,
            at_user_ids: vec![],
            ex: String::new(),
        },
        participants: vec![(a, to.into()), (b, from.into())],
    }
}

pub async fn sqlite_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("confab.db").display());
    (
        SqliteStore::open(&url, Durability::Process).await.unwrap(),
        dir,
    )
}

pub async fn postgres_store() -> Option<PostgresStore> {
    let url = confab_store::testing::fresh_postgres_database("confab_contract").await?;
    Some(PostgresStore::connect(&url, 4).await.unwrap())
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, _dir) = crate::support::sqlite_store().await;
                    super::$case(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(store) = crate::support::postgres_store().await {
                        super::$case(&store).await;
                    }
                }
            )*
        }
    };
}
