//! What both contract files share: ids, seeded users, a store of each
//! backend, and `contract!`, which makes a SQLite and a PostgreSQL test of
//! each case.

#![allow(dead_code)]

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
