//! The shared backend: PostgreSQL, for several Confab nodes on one database.

use crate::common::{db_err, impl_store, AppendError, Backend};
use crate::recent_sends::RecentSends;
use crate::rows::{MessageRow, MESSAGE_COLUMNS};
use confab_core::message::Message;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;

/// Key of the transaction-scoped advisory lock that serialises numeric user
/// id allocation (`MAX(numeric_id) + 1` would race between transactions).
const NUMERIC_ID_LOCK: i64 = 0x636f_6e66_6162;

pub struct PostgresStore {
    pool: PgPool,
}

impl Backend for PostgresStore {
    type Db = sqlx::Postgres;
}

impl PostgresStore {
    /// Connects to `url` (`postgres://...`) and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> confab_core::Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await
            .map_err(|e| confab_core::Error::internal(format!("connecting to PostgreSQL: {e}")))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| confab_core::Error::internal(format!("migrating PostgreSQL: {e}")))?;
        Ok(PostgresStore { pool })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// No index of recent sends: a unique index on (sender, client msg id)
    /// finds resends, also those another node appended.
    async fn recent_sends(&self) -> Option<tokio::sync::MutexGuard<'_, RecentSends>> {
        None
    }

    /// Inserts the messages of an append in one statement of sixteen
    /// arrays, whatever their number (a multi-row `VALUES` list had to be
    /// parsed and planned, with its 16 parameters a row, on every batch).
    /// No log rows: this backend finds resends through its index.
    async fn insert_messages(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        messages: &[Message],
    ) -> Result<Vec<i64>, AppendError> {
        let at_user_ids = messages
            .iter()
            .map(|m| crate::rows::at_user_ids_column(&m.at_user_ids))
            .collect::<Result<Vec<String>, AppendError>>()?;
        let text = |f: fn(&Message) -> &str| messages.iter().map(f).collect::<Vec<&str>>();
        let int = |f: fn(&Message) -> i32| messages.iter().map(f).collect::<Vec<i32>>();
        let bigint = |f: fn(&Message) -> i64| messages.iter().map(f).collect::<Vec<i64>>();
        let sql = format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}) SELECT * FROM unnest(\
             $1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], \
             $9::int[], $10::text[], $11::int[], $12::text[], $13::bigint[], $14::int[], $15::text[], $16::text[])"
        );
        sqlx::query(&sql)
            .bind(text(|m| &m.conversation_id))
            .bind(bigint(|m| m.seq))
            .bind(text(|m| &m.server_msg_id))
            .bind(text(|m| &m.client_msg_id))
            .bind(text(|m| m.sender_id.as_str()))
            .bind(int(|m| m.sender_platform))
            .bind(text(|m| &m.sender_nickname))
            .bind(text(|m| &m.sender_face_url))
            .bind(int(|m| m.session_type as i32))
            .bind(text(|m| &m.recv_id))
            .bind(int(|m| m.content_type))
            .bind(text(|m| &m.content))
            .bind(bigint(|m| m.send_time))
            .bind(int(|m| m.status as i32))
            .bind(&at_user_ids)
            .bind(text(|m| &m.ex))
            .execute(&mut **tx)
            .await
            .map_err(AppendError::Db)?;
        Ok(Vec::new())
    }

    /// The (recipient, sender) pairs of `pairs` a send would be refused
    /// for, by their index: (index, recipient exists, recipient blocks the
    /// sender). One statement over two arrays, planned once.
    async fn refused_chats(
        &self,
        pairs: &[(confab_core::UserId, confab_core::UserId)],
    ) -> confab_core::Result<Vec<(usize, bool, bool)>> {
        let recipients: Vec<&str> = pairs.iter().map(|(r, _)| r.as_str()).collect();
        let senders: Vec<&str> = pairs.iter().map(|(_, s)| s.as_str()).collect();
        let rows: Vec<(i64, bool, bool)> = sqlx::query_as(
            "SELECT i, e, b FROM (SELECT k.i, \
             EXISTS (SELECT 1 FROM users u WHERE u.user_id = k.recipient) AS e, \
             EXISTS (SELECT 1 FROM blacks b WHERE b.owner_user_id = k.recipient \
             AND b.block_user_id = k.sender) AS b \
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(recipient, sender, i)) AS f \
             WHERE NOT e OR b",
        )
        .bind(recipients)
        .bind(senders)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(i, exists, blocks)| {
                let i = usize::try_from(i - 1).map_err(confab_core::Error::internal)?;
                Ok((i, exists, blocks))
            })
            .collect()
    }

    /// The stored message of each resend in `batch`, by (sender, client msg
    /// id), through the unique index (the index of recent sends is the embedded
    /// store's). One statement of two arrays whatever
    /// the batch's size: PostgreSQL plans it once, where a list of 512
    /// `OR`ed pairs had to be planned on every batch.
    async fn stored_sends(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        batch: &[confab_core::message::NewMessage],
        _recent: Option<&RecentSends>,
    ) -> Result<HashMap<(String, String), Message>, AppendError> {
        let senders: Vec<&str> = batch.iter().map(|n| n.message.sender_id.as_str()).collect();
        let clients: Vec<&str> = batch
            .iter()
            .map(|n| n.message.client_msg_id.as_str())
            .collect();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             JOIN unnest($1::text[], $2::text[]) AS k(k_sender, k_client) \
             ON sender_id = k_sender AND client_msg_id = k_client"
        );
        let rows: Vec<MessageRow> = sqlx::query_as(&sql)
            .bind(senders)
            .bind(clients)
            .fetch_all(&mut **tx)
            .await
            .map_err(AppendError::Db)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let m: Message = row.into();
                ((m.sender_id.to_string(), m.client_msg_id.clone()), m)
            })
            .collect())
    }

    fn param(n: usize) -> String {
        format!("${n}")
    }

    async fn lock_numeric_ids(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    ) -> confab_core::Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(NUMERIC_ID_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

impl_store!(PostgresStore);
