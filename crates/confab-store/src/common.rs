//! The store implementation both backends share.
//!
//! Confab's queries are written in the common subset of SQLite and PostgreSQL
//! (`$N` parameters, `ON CONFLICT`, no backend functions), so the two backends
//! share this body, instantiated per backend by `impl_store!`. What differs
//! between them stays in `sqlite.rs` and `postgres.rs`: connection set-up,
//! pragmas, migrations, locking. Each backend provides `writer()` (the pool
//! writes go through), `reader()` (for reads) and
//! `lock_numeric_ids(&mut tx)` (serialises numeric id allocation) and
//! `param(n)`, the text of the n-th parameter in statements built with many
//! parameters (SQLite's `$N` costs a linear name lookup per bind, so such
//! statements use plain `?` there).

use confab_core::Error;

/// Maps a database error: unique-key violations become `Conflict`, the rest
/// are internal (their text is logged, never shown to a client).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::conflict("the record already exists")
        }
        _ => Error::internal(format!("database: {e}")),
    }
}

/// Why a batch append failed: a database error, which may be worth
/// retrying, or anything else.
pub(crate) enum AppendError {
    Db(sqlx::Error),
    Other(Error),
}

impl From<AppendError> for Error {
    fn from(e: AppendError) -> Error {
        match e {
            AppendError::Db(e) => db_err(e),
            AppendError::Other(e) => e,
        }
    }
}

/// A serialization failure or deadlock (PostgreSQL), or a busy database
/// (SQLite): the transaction may succeed if run again.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(
            d.code().as_deref(),
            Some("40001" | "40P01" | "5" | "517" | "6")
        ),
        _ => false,
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Splits `items` into pieces whose sizes are powers of two (at most 512),
/// largest first: `n` items take as many statements as `n` has one-bits,
/// and statements come in ten shapes only, which the connection's statement
/// cache keeps prepared (preparing a statement with thousands of parameters
/// costs more than running it).
pub(crate) fn shaped_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut size = 512;
    while !items.is_empty() {
        while size > items.len() {
            size /= 2;
        }
        let (piece, rest) = items.split_at(size);
        out.push(piece);
        items = rest;
    }
    out
}

/// Clamps a page size or offset into the range SQL LIMIT/OFFSET accepts.
pub(crate) fn sql_count(n: u32) -> i64 {
    i64::from(n)
}

macro_rules! impl_store {
    ($store:ty) => {
        use $crate::common::{db_err, is_unique_violation, shaped_chunks, sql_count};
        use $crate::rows::*;
        use confab_core::model::*;
        use confab_core::store::*;
        use confab_core::{Error, GroupId, Millis, Platform, Result, UserId};

        #[async_trait::async_trait]
        impl UserStore for $store {
            async fn create_users(&self, users: &[User]) -> Result<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                Self::lock_numeric_ids(&mut tx).await?;
                for u in users {
                    let exists: Option<(String,)> =
                        sqlx::query_as("SELECT user_id FROM users WHERE user_id = $1")
                            .bind(u.user_id.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db_err)?;
                    if exists.is_some() {
                        return Err(Error::conflict(format!("user {} already exists", u.user_id)));
                    }
                    let numeric = u.user_id.numeric();
                    let sql = format!(
                        "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, \
                         COALESCE($2, (SELECT COALESCE(MAX(numeric_id), 0) + 1 FROM users)), \
                         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    );
                    let inserted = sqlx::query(&sql)
                        .bind(u.user_id.as_str())
                        .bind(numeric)
                        .bind(&u.nickname)
                        .bind(&u.face_url)
                        .bind(u.gender)
                        .bind(&u.phone_number)
                        .bind(&u.birth)
                        .bind(&u.email)
                        .bind(&u.ex)
                        .bind(&u.password_hash)
                        .bind(u.created_at)
                        .bind(u.updated_at)
                        .execute(&mut *tx)
                        .await;
                    match inserted {
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => {
                            return Err(Error::conflict(format!(
                                "numeric id {} of user {} belongs to another user",
                                numeric.unwrap_or_default(),
                                u.user_id
                            )))
                        }
                        Err(e) => return Err(db_err(e)),
                    }
                }
                tx.commit().await.map_err(db_err)
            }

            async fn get_user(&self, user_id: &UserId) -> Result<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1");
                let row: Option<UserRow> = sqlx::query_as(&sql)
                    .bind(user_id.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(User::from))
            }

            async fn get_users(&self, user_ids: &[UserId]) -> Result<Vec<User>> {
                let mut out = Vec::with_capacity(user_ids.len());
                for chunk in user_ids.chunks(500) {
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE user_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, UserRow>(&sql);
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    out.extend(rows.into_iter().map(User::from));
                }
                Ok(out)
            }

            async fn update_user(&self, user_id: &UserId, patch: &UserPatch, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE users SET nickname = COALESCE($2, nickname), \
                     face_url = COALESCE($3, face_url), gender = COALESCE($4, gender), \
                     phone_number = COALESCE($5, phone_number), birth = COALESCE($6, birth), \
                     email = COALESCE($7, email), ex = COALESCE($8, ex), updated_at = $9 \
                     WHERE user_id = $1",
                )
                .bind(user_id.as_str())
                .bind(&patch.nickname)
                .bind(&patch.face_url)
                .bind(patch.gender)
                .bind(&patch.phone_number)
                .bind(&patch.birth)
                .bind(&patch.email)
                .bind(&patch.ex)
                .bind(now)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_password_hash(&self, user_id: &UserId, hash: &str, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $2, updated_at = $3 WHERE user_id = $1",
                )
                .bind(user_id.as_str())
                .bind(hash)
                .bind(now)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_user(&self, user_id: &UserId, owned: &[OwnedGroupFate]) -> Result<bool> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let id = user_id.as_str();
                for fate in owned {
                    let group = fate.group_id.as_str();
                    match &fate.successor {
                        Some(next) => {
                            sqlx::query("UPDATE group_members SET role_level = $3 WHERE group_id = $1 AND user_id = $2")
                                .bind(group)
                                .bind(next.as_str())
                                .bind(Role::Owner as i32)
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                            sqlx::query("UPDATE im_groups SET owner_user_id = $2 WHERE group_id = $1")
                                .bind(group)
                                .bind(next.as_str())
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                        }
                        None => {
                            sqlx::query("UPDATE im_groups SET status = $2 WHERE group_id = $1")
                                .bind(group)
                                .bind(GroupStatus::Dismissed as i32)
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                        }
                    }
                }
                for sql in [
                    "DELETE FROM group_members WHERE user_id = $1",
                    "DELETE FROM group_requests WHERE user_id = $1",
                    "DELETE FROM friends WHERE owner_user_id = $1 OR friend_user_id = $1",
                    "DELETE FROM blacks WHERE owner_user_id = $1 OR block_user_id = $1",
                    "DELETE FROM friend_requests WHERE from_user_id = $1 OR to_user_id = $1",
                    "DELETE FROM user_tokens WHERE user_id = $1",
                    "DELETE FROM user_conversations WHERE user_id = $1",
                    "DELETE FROM user_deleted_messages WHERE user_id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                }
                let done = sqlx::query("DELETE FROM users WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(false);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn list_user_ids(&self, after: Option<&UserId>, limit: u32) -> Result<Vec<UserId>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT user_id FROM users WHERE user_id > $1 ORDER BY user_id LIMIT $2",
                )
                .bind(after.map(UserId::as_str).unwrap_or(""))
                .bind(sql_count(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(|(id,)| UserId::from_trusted(id)).collect())
            }
        }

        #[async_trait::async_trait]
        impl TokenStore for $store {
            async fn put_token(&self, user_id: &UserId, platform: Platform, token_id: &str, expires_at: Millis) -> Result<()> {
                sqlx::query(
                    "INSERT INTO user_tokens (user_id, platform_id, token_id, expires_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, platform_id) \
                     DO UPDATE SET token_id = excluded.token_id, expires_at = excluded.expires_at",
                )
                .bind(user_id.as_str())
                .bind(platform.id())
                .bind(token_id)
                .bind(expires_at)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn get_token_id(&self, user_id: &UserId, platform: Platform) -> Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT token_id FROM user_tokens WHERE user_id = $1 AND platform_id = $2",
                )
                .bind(user_id.as_str())
                .bind(platform.id())
                .fetch_optional(self.reader())
                .await
                .map_err(db_err)?;
                Ok(row.map(|(t,)| t))
            }

            async fn delete_tokens(&self, user_id: &UserId, platform: Option<Platform>) -> Result<u64> {
                let done = match platform {
                    Some(p) => sqlx::query("DELETE FROM user_tokens WHERE user_id = $1 AND platform_id = $2")
                        .bind(user_id.as_str())
                        .bind(p.id())
                        .execute(self.writer())
                        .await,
                    None => sqlx::query("DELETE FROM user_tokens WHERE user_id = $1")
                        .bind(user_id.as_str())
                        .execute(self.writer())
                        .await,
                }
                .map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl RelationStore for $store {
            async fn add_friends(&self, edges: &[Friend]) -> Result<u64> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut added = 0;
                for f in edges {
                    let sql = format!(
                        "INSERT INTO friends ({FRIEND_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (owner_user_id, friend_user_id) DO NOTHING"
                    );
                    let done = sqlx::query(&sql)
                        .bind(f.owner_user_id.as_str())
                        .bind(f.friend_user_id.as_str())
                        .bind(&f.remark)
                        .bind(f.created_at)
                        .bind(&f.ex)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    added += done.rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(added)
            }

            async fn delete_friends(&self, edges: &[(UserId, UserId)]) -> Result<u64> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut deleted = 0;
                for (owner, friend) in edges {
                    let done = sqlx::query("DELETE FROM friends WHERE owner_user_id = $1 AND friend_user_id = $2")
                        .bind(owner.as_str())
                        .bind(friend.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    deleted += done.rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(deleted)
            }

            async fn get_friend(&self, owner: &UserId, friend: &UserId) -> Result<Option<Friend>> {
                let sql = format!(
                    "SELECT {FRIEND_COLUMNS} FROM friends WHERE owner_user_id = $1 AND friend_user_id = $2"
                );
                let row: Option<FriendRow> = sqlx::query_as(&sql)
                    .bind(owner.as_str())
                    .bind(friend.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Friend::from))
            }

            async fn list_friends(&self, owner: &UserId) -> Result<Vec<Friend>> {
                let sql = format!(
                    "SELECT {FRIEND_COLUMNS} FROM friends WHERE owner_user_id = $1 \
                     ORDER BY created_at, friend_user_id"
                );
                let rows: Vec<FriendRow> = sqlx::query_as(&sql)
                    .bind(owner.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Friend::from).collect())
            }

            async fn set_friend_remark(&self, owner: &UserId, friend: &UserId, remark: &str) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE friends SET remark = $3 WHERE owner_user_id = $1 AND friend_user_id = $2",
                )
                .bind(owner.as_str())
                .bind(friend.as_str())
                .bind(remark)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn add_black(&self, black: &Black) -> Result<bool> {
                let sql = format!(
                    "INSERT INTO blacks ({BLACK_COLUMNS}) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (owner_user_id, block_user_id) DO NOTHING"
                );
                let done = sqlx::query(&sql)
                    .bind(black.owner_user_id.as_str())
                    .bind(black.block_user_id.as_str())
                    .bind(black.created_at)
                    .bind(&black.ex)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn remove_black(&self, owner: &UserId, blocked: &UserId) -> Result<bool> {
                let done = sqlx::query("DELETE FROM blacks WHERE owner_user_id = $1 AND block_user_id = $2")
                    .bind(owner.as_str())
                    .bind(blocked.as_str())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn get_black(&self, owner: &UserId, blocked: &UserId) -> Result<Option<Black>> {
                let sql = format!(
                    "SELECT {BLACK_COLUMNS} FROM blacks WHERE owner_user_id = $1 AND block_user_id = $2"
                );
                let row: Option<BlackRow> = sqlx::query_as(&sql)
                    .bind(owner.as_str())
                    .bind(blocked.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Black::from))
            }

            async fn list_blacks(&self, owner: &UserId) -> Result<Vec<Black>> {
                let sql = format!(
                    "SELECT {BLACK_COLUMNS} FROM blacks WHERE owner_user_id = $1 ORDER BY created_at, block_user_id"
                );
                let rows: Vec<BlackRow> = sqlx::query_as(&sql)
                    .bind(owner.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Black::from).collect())
            }

            async fn put_friend_request(&self, r: &FriendRequest) -> Result<()> {
                let sql = format!(
                    "INSERT INTO friend_requests ({FRIEND_REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (from_user_id, to_user_id) DO UPDATE SET req_msg = excluded.req_msg, \
                     handle_result = excluded.handle_result, handle_msg = excluded.handle_msg, \
                     created_at = excluded.created_at, handled_at = excluded.handled_at, ex = excluded.ex"
                );
                sqlx::query(&sql)
                    .bind(r.from_user_id.as_str())
                    .bind(r.to_user_id.as_str())
                    .bind(&r.req_msg)
                    .bind(r.handle_result as i32)
                    .bind(&r.handle_msg)
                    .bind(r.created_at)
                    .bind(r.handled_at)
                    .bind(&r.ex)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn get_friend_request(&self, from: &UserId, to: &UserId) -> Result<Option<FriendRequest>> {
                let sql = format!(
                    "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE from_user_id = $1 AND to_user_id = $2"
                );
                let row: Option<FriendRequestRow> = sqlx::query_as(&sql)
                    .bind(from.as_str())
                    .bind(to.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(FriendRequest::from))
            }

            async fn list_friend_requests_to(&self, to: &UserId) -> Result<Vec<FriendRequest>> {
                let sql = format!(
                    "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE to_user_id = $1 \
                     ORDER BY created_at DESC, from_user_id"
                );
                let rows: Vec<FriendRequestRow> = sqlx::query_as(&sql)
                    .bind(to.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(FriendRequest::from).collect())
            }

            async fn list_friend_requests_from(&self, from: &UserId) -> Result<Vec<FriendRequest>> {
                let sql = format!(
                    "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE from_user_id = $1 \
                     ORDER BY created_at DESC, to_user_id"
                );
                let rows: Vec<FriendRequestRow> = sqlx::query_as(&sql)
                    .bind(from.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(FriendRequest::from).collect())
            }

            async fn answer_friend_request(
                &self,
                from: &UserId,
                to: &UserId,
                result: HandleResult,
                handle_msg: &str,
                now: Millis,
                edges: &[Friend],
            ) -> Result<bool> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let done = sqlx::query(
                    "UPDATE friend_requests SET handle_result = $3, handle_msg = $4, handled_at = $5 \
                     WHERE from_user_id = $1 AND to_user_id = $2",
                )
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(result as i32)
                .bind(handle_msg)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(false);
                }
                for f in edges {
                    let sql = format!(
                        "INSERT INTO friends ({FRIEND_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (owner_user_id, friend_user_id) DO NOTHING"
                    );
                    sqlx::query(&sql)
                        .bind(f.owner_user_id.as_str())
                        .bind(f.friend_user_id.as_str())
                        .bind(&f.remark)
                        .bind(f.created_at)
                        .bind(&f.ex)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }
        }

        impl $store {
            async fn insert_member(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::common::Backend>::Db>,
                m: &GroupMember,
            ) -> Result<bool> {
                let sql = format!(
                    "INSERT INTO group_members ({MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (group_id, user_id) DO NOTHING"
                );
                let done = sqlx::query(&sql)
                    .bind(m.group_id.as_str())
                    .bind(m.user_id.as_str())
                    .bind(&m.nickname)
                    .bind(&m.face_url)
                    .bind(m.role as i32)
                    .bind(m.join_time)
                    .bind(m.join_source)
                    .bind(&m.inviter_user_id)
                    .bind(&m.operator_user_id)
                    .bind(m.mute_end_time)
                    .bind(&m.ex)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                // The member sees the group's messages from the next one on.
                let conversation_id = confab_core::message::group_conversation_id(&m.group_id);
                sqlx::query(
                    "INSERT INTO user_conversations (user_id, conversation_id, session_type, peer_id, read_seq, \
                     delivered_seq, min_seq, updated_at) VALUES ($1, $2, $3, $4, \
                     COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                     COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                     COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0) + 1, $5) \
                     ON CONFLICT (user_id, conversation_id) DO UPDATE SET min_seq = excluded.min_seq, \
                     read_seq = excluded.read_seq, delivered_seq = excluded.delivered_seq",
                )
                .bind(m.user_id.as_str())
                .bind(&conversation_id)
                .bind(confab_core::message::SessionType::Group as i32)
                .bind(m.group_id.as_str())
                .bind(m.join_time)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
                Ok(true)
            }

            /// Appends a batch with a constant number of statements: one
            /// lookup of resends, one insert of new conversations (and
            /// their participants), one seq bump per batch of
            /// conversations, one insert of the messages.
            async fn append_batch(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::common::Backend>::Db>,
                batch: &[confab_core::message::NewMessage],
            ) -> std::result::Result<Vec<confab_core::message::Appended>, $crate::common::AppendError> {
                use $crate::common::AppendError;
                use confab_core::message::{Appended, Message};
                use std::collections::HashMap;

                // Resends: the stored message of each (sender, clientMsgID).
                let mut stored: HashMap<(String, String), Message> = HashMap::new();
                for chunk in shaped_chunks(&batch) {
                    let terms = (0..chunk.len())
                        .map(|i| format!("(sender_id = {} AND client_msg_id = {})", Self::param(2 * i + 1), Self::param(2 * i + 2)))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {terms}");
                    let mut q = sqlx::query_as::<_, MessageRow>(&sql);
                    for new in chunk {
                        q = q.bind(new.message.sender_id.as_str()).bind(&new.message.client_msg_id);
                    }
                    for row in q.fetch_all(&mut **tx).await.map_err(AppendError::Db)? {
                        let m: Message = row.into();
                        stored.insert((m.sender_id.to_string(), m.client_msg_id.clone()), m);
                    }
                }

                // What is new, in order; repeats within the batch are resends.
                enum Slot {
                    Stored(Box<Message>),
                    New(usize),
                    SameAs(usize),
                }
                let mut slots = Vec::with_capacity(batch.len());
                let mut fresh: Vec<&confab_core::message::NewMessage> = Vec::new();
                let mut first: HashMap<(&str, &str), usize> = HashMap::new();
                for new in batch {
                    let m = &new.message;
                    let key = (m.sender_id.to_string(), m.client_msg_id.clone());
                    if let Some(existing) = stored.get(&key) {
                        slots.push(Slot::Stored(Box::new(existing.clone())));
                    } else if let Some(&i) = first.get(&(m.sender_id.as_str(), m.client_msg_id.as_str())) {
                        slots.push(Slot::SameAs(i));
                    } else {
                        first.insert((m.sender_id.as_str(), m.client_msg_id.as_str()), fresh.len());
                        slots.push(Slot::New(fresh.len()));
                        fresh.push(new);
                    }
                }

                // Conversations: how many new messages each gets, in first-seen order.
                let mut counts: Vec<(&str, i64, &confab_core::message::NewMessage)> = Vec::new();
                let mut index: HashMap<&str, usize> = HashMap::new();
                for new in &fresh {
                    let id = new.message.conversation_id.as_str();
                    match index.get(id) {
                        Some(&i) => counts[i].1 += 1,
                        None => {
                            index.insert(id, counts.len());
                            counts.push((id, 1, new));
                        }
                    }
                }

                // Take the seqs: each conversation's max moves up by its
                // count, creating the conversations that do not exist yet
                // (their max is then exactly their count: existing ones hold
                // at least one message already). The row stays locked
                // (PostgreSQL) until commit, so seqs are gap-free and never
                // shared.
                let mut max_after: HashMap<String, i64> = HashMap::new();
                let mut created: Vec<&confab_core::message::NewMessage> = Vec::new();
                for chunk in shaped_chunks(&counts) {
                    let values = (0..chunk.len())
                        .map(|i| {
                            format!(
                                "({}, {}, CAST({} AS BIGINT), {})",
                                Self::param(4 * i + 1),
                                Self::param(4 * i + 2),
                                Self::param(4 * i + 3),
                                Self::param(4 * i + 4)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "INSERT INTO conversations (conversation_id, session_type, max_seq, created_at) VALUES {values} \
                         ON CONFLICT (conversation_id) DO UPDATE SET max_seq = conversations.max_seq + excluded.max_seq \
                         RETURNING conversation_id, max_seq"
                    );
                    let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
                    for (id, n, new) in chunk {
                        q = q.bind(*id).bind(new.message.session_type as i32).bind(*n).bind(new.message.send_time);
                    }
                    for (id, max) in q.fetch_all(&mut **tx).await.map_err(AppendError::Db)? {
                        if let Some(&i) = index.get(id.as_str()) {
                            if counts[i].1 == max {
                                created.push(counts[i].2);
                            }
                        }
                        max_after.insert(id, max);
                    }
                }
                let participants: Vec<(&confab_core::message::NewMessage, &(UserId, String))> = created
                    .iter()
                    .flat_map(|new| new.participants.iter().map(move |p| (*new, p)))
                    .collect();
                for part in shaped_chunks(&participants) {
                    let values = (0..part.len())
                        .map(|i| {
                            let row: Vec<String> = (1..=5).map(|k| Self::param(5 * i + k)).collect();
                            format!("({})", row.join(", "))
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "INSERT INTO user_conversations (user_id, conversation_id, session_type, peer_id, updated_at) \
                         VALUES {values} ON CONFLICT (user_id, conversation_id) DO NOTHING"
                    );
                    let mut q = sqlx::query(&sql);
                    for (new, (user, peer)) in part {
                        q = q
                            .bind(user.as_str())
                            .bind(&new.message.conversation_id)
                            .bind(new.message.session_type as i32)
                            .bind(peer)
                            .bind(new.message.send_time);
                    }
                    q.execute(&mut **tx).await.map_err(AppendError::Db)?;
                }
                let mut next: HashMap<&str, i64> = HashMap::new();
                for (id, n, _) in &counts {
                    let max = max_after
                        .get(*id)
                        .copied()
                        .ok_or_else(|| AppendError::Other(Error::internal(format!("conversation {id} vanished during an append"))))?;
                    next.insert(*id, max - n + 1);
                }
                let mut messages: Vec<Message> = Vec::with_capacity(fresh.len());
                for new in &fresh {
                    let mut m = new.message.clone();
                    let seq = next.get_mut(m.conversation_id.as_str()).ok_or_else(|| AppendError::Other(Error::internal("no seq")))?;
                    m.seq = *seq;
                    *seq += 1;
                    messages.push(m);
                }

                for chunk in shaped_chunks(&messages) {
                    let values = (0..chunk.len())
                        .map(|i| {
                            let row: Vec<String> = (1..=16).map(|k| Self::param(16 * i + k)).collect();
                            format!("({})", row.join(", "))
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!("INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES {values}");
                    let mut q = sqlx::query(&sql);
                    for m in chunk {
                        let at_user_ids = serde_json::to_string(&m.at_user_ids).map_err(|e| AppendError::Other(Error::internal(e)))?;
                        q = q
                            .bind(&m.conversation_id)
                            .bind(m.seq)
                            .bind(&m.server_msg_id)
                            .bind(&m.client_msg_id)
                            .bind(m.sender_id.as_str())
                            .bind(m.sender_platform)
                            .bind(&m.sender_nickname)
                            .bind(&m.sender_face_url)
                            .bind(m.session_type as i32)
                            .bind(&m.recv_id)
                            .bind(m.content_type)
                            .bind(&m.content)
                            .bind(m.send_time)
                            .bind(m.status as i32)
                            .bind(at_user_ids)
                            .bind(&m.ex);
                    }
                    q.execute(&mut **tx).await.map_err(AppendError::Db)?;
                }

                Ok(slots
                    .into_iter()
                    .map(|slot| match slot {
                        Slot::Stored(message) => Appended { message: *message, duplicate: true },
                        Slot::New(i) => Appended { message: messages[i].clone(), duplicate: false },
                        Slot::SameAs(i) => Appended { message: messages[i].clone(), duplicate: true },
                    })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl confab_core::store::MessageStore for $store {
            async fn append_messages(&self, batch: &[confab_core::message::NewMessage]) -> Result<Vec<confab_core::message::Appended>> {
                use confab_core::message::Appended;
                if batch.is_empty() {
                    return Ok(Vec::<Appended>::new());
                }
                // Batches from several nodes may deadlock on conversation rows
                // (PostgreSQL aborts one); such a batch is simply run again.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    match Self::append_batch(&mut tx, batch).await {
                        Ok(out) => match tx.commit().await {
                            Ok(()) => return Ok(out),
                            Err(e) if attempt < 4 && $crate::common::is_transient(&e) => continue,
                            Err(e) => return Err(db_err(e)),
                        },
                        Err($crate::common::AppendError::Db(e)) if attempt < 4 && $crate::common::is_transient(&e) => {
                            let _ = tx.rollback().await;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }

            async fn revoke_message(&self, conversation_id: &str, seq: i64, notice: &confab_core::message::NewMessage) -> Result<Option<confab_core::message::Appended>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let done = sqlx::query("UPDATE messages SET status = $3 WHERE conversation_id = $1 AND seq = $2")
                    .bind(conversation_id)
                    .bind(seq)
                    .bind(confab_core::message::MessageStatus::Revoked as i32)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(None);
                }
                let appended = Self::append_batch(&mut tx, std::slice::from_ref(notice))
                    .await
                    .map_err(Error::from)?
                    .pop()
                    .ok_or_else(|| Error::internal("an append returned nothing"))?;
                tx.commit().await.map_err(db_err)?;
                Ok(Some(appended))
            }

            async fn get_message(&self, conversation_id: &str, seq: i64) -> Result<Option<confab_core::message::Message>> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2");
                let row: Option<MessageRow> = sqlx::query_as(&sql)
                    .bind(conversation_id)
                    .bind(seq)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn chat_facts(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<confab_core::store::ChatFacts>> {
                let mut out = Vec::with_capacity(pairs.len());
                for chunk in shaped_chunks(pairs) {
                    let values = (0..chunk.len())
                        .map(|i| format!("({}, {}, CAST({} AS BIGINT))", Self::param(3 * i + 1), Self::param(3 * i + 2), Self::param(3 * i + 3)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "SELECT v.column3, \
                         CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.user_id = v.column1) THEN 1 ELSE 0 END, \
                         CASE WHEN EXISTS (SELECT 1 FROM blacks b WHERE b.owner_user_id = v.column1 \
                         AND b.block_user_id = v.column2) THEN 1 ELSE 0 END \
                         FROM (VALUES {values}) AS v"
                    );
                    let mut q = sqlx::query_as::<_, (i64, i32, i32)>(&sql);
                    for (i, (recipient, sender)) in chunk.iter().enumerate() {
                        q = q.bind(recipient.as_str()).bind(sender.as_str()).bind(i as i64);
                    }
                    let mut rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    rows.sort_by_key(|r| r.0);
                    out.extend(rows.into_iter().map(|(_, exists, blocks)| confab_core::store::ChatFacts {
                        recipient_exists: exists == 1,
                        recipient_blocks_sender: blocks == 1,
                    }));
                }
                Ok(out)
            }

            async fn find_message_by_client_id(&self, conversation_id: &str, client_msg_id: &str) -> Result<Option<confab_core::message::Message>> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_msg_id = $2");
                let row: Option<MessageRow> = sqlx::query_as(&sql)
                    .bind(conversation_id)
                    .bind(client_msg_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn get_messages(&self, user_id: &UserId, conversation_id: &str, begin: i64, end: i64, limit: u32) -> Result<Vec<confab_core::message::Message>> {
                let columns = MESSAGE_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "SELECT {columns} FROM messages m WHERE m.conversation_id = $1 AND m.seq >= $2 AND m.seq <= $3 \
                     AND NOT EXISTS (SELECT 1 FROM user_deleted_messages d WHERE d.user_id = $4 \
                     AND d.conversation_id = m.conversation_id AND d.seq = m.seq) ORDER BY m.seq LIMIT $5"
                );
                let rows: Vec<MessageRow> = sqlx::query_as(&sql)
                    .bind(conversation_id)
                    .bind(begin)
                    .bind(end)
                    .bind(user_id.as_str())
                    .bind(sql_count(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn max_seq(&self, conversation_id: &str) -> Result<i64> {
                let row: Option<(i64,)> = sqlx::query_as("SELECT max_seq FROM conversations WHERE conversation_id = $1")
                    .bind(conversation_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(|(s,)| s).unwrap_or(0))
            }

            async fn user_conversations(&self, user_id: &UserId) -> Result<Vec<confab_core::message::UserConversation>> {
                let sql = format!("{USER_CONVERSATION_SELECT} WHERE uc.user_id = $1 ORDER BY uc.conversation_id");
                let rows: Vec<UserConversationRow> = sqlx::query_as(&sql)
                    .bind(user_id.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn user_conversation(&self, user_id: &UserId, conversation_id: &str) -> Result<Option<confab_core::message::UserConversation>> {
                let sql = format!("{USER_CONVERSATION_SELECT} WHERE uc.user_id = $1 AND uc.conversation_id = $2");
                let row: Option<UserConversationRow> = sqlx::query_as(&sql)
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn mark_read(&self, user_id: &UserId, conversation_id: &str, seq: i64, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE user_conversations SET \
                     read_seq = CASE WHEN read_seq < $3 THEN $3 ELSE read_seq END, \
                     delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END, \
                     updated_at = $4 WHERE user_id = $1 AND conversation_id = $2",
                )
                .bind(user_id.as_str())
                .bind(conversation_id)
                .bind(seq)
                .bind(now)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_delivered(&self, user_id: &UserId, conversation_id: &str, seq: i64, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE user_conversations SET \
                     delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END, \
                     updated_at = $4 WHERE user_id = $1 AND conversation_id = $2",
                )
                .bind(user_id.as_str())
                .bind(conversation_id)
                .bind(seq)
                .bind(now)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn clear_conversation(&self, user_id: &UserId, conversation_id: &str, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE user_conversations SET \
                     min_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0) + 1, \
                     read_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                     delivered_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                     updated_at = $3 WHERE user_id = $1 AND conversation_id = $2",
                )
                .bind(user_id.as_str())
                .bind(conversation_id)
                .bind(now)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_messages_for(&self, user_id: &UserId, conversation_id: &str, seqs: &[i64]) -> Result<u64> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut added = 0;
                for seq in seqs {
                    let done = sqlx::query(
                        "INSERT INTO user_deleted_messages (user_id, conversation_id, seq) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id, conversation_id, seq) DO NOTHING",
                    )
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .bind(*seq)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    added += done.rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(added)
            }

            async fn update_user_conversation(&self, user_id: &UserId, conversation_id: &str, p: &confab_core::message::ConversationPatch, now: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE user_conversations SET recv_msg_opt = COALESCE($3, recv_msg_opt), \
                     is_pinned = COALESCE($4, is_pinned), ex = COALESCE($5, ex), updated_at = $6, \
                     is_hidden = COALESCE($7, is_hidden) \
                     WHERE user_id = $1 AND conversation_id = $2",
                )
                .bind(user_id.as_str())
                .bind(conversation_id)
                .bind(p.recv_msg_opt)
                .bind(p.is_pinned)
                .bind(&p.ex)
                .bind(now)
                .bind(p.is_hidden)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }
        }

        #[async_trait::async_trait]
        impl GroupStore for $store {
            async fn create_group(&self, g: &Group, members: &[GroupMember]) -> Result<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let sql = format!(
                    "INSERT INTO im_groups ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                );
                let inserted = sqlx::query(&sql)
                    .bind(g.group_id.as_str())
                    .bind(&g.group_name)
                    .bind(&g.notification)
                    .bind(&g.introduction)
                    .bind(&g.face_url)
                    .bind(&g.ex)
                    .bind(g.group_type)
                    .bind(g.status as i32)
                    .bind(g.creator_user_id.as_str())
                    .bind(g.owner_user_id.as_str())
                    .bind(g.created_at)
                    .execute(&mut *tx)
                    .await;
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        return Err(Error::conflict(format!("group {} already exists", g.group_id)))
                    }
                    Err(e) => return Err(db_err(e)),
                }
                for m in members {
                    Self::insert_member(&mut tx, m).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn get_group(&self, group_id: &GroupId) -> Result<Option<Group>> {
                let sql = format!("SELECT {GROUP_COLUMNS} FROM im_groups WHERE group_id = $1");
                let row: Option<GroupRow> = sqlx::query_as(&sql)
                    .bind(group_id.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Group::from))
            }

            async fn get_groups(&self, group_ids: &[GroupId]) -> Result<Vec<Group>> {
                let mut out = Vec::with_capacity(group_ids.len());
                for chunk in group_ids.chunks(500) {
                    let sql = format!(
                        "SELECT {GROUP_COLUMNS} FROM im_groups WHERE group_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, GroupRow>(&sql);
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    out.extend(rows.into_iter().map(Group::from));
                }
                Ok(out)
            }

            async fn update_group(&self, group_id: &GroupId, p: &GroupPatch) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE im_groups SET group_name = COALESCE($2, group_name), \
                     notification = COALESCE($3, notification), introduction = COALESCE($4, introduction), \
                     face_url = COALESCE($5, face_url), ex = COALESCE($6, ex) WHERE group_id = $1",
                )
                .bind(group_id.as_str())
                .bind(&p.group_name)
                .bind(&p.notification)
                .bind(&p.introduction)
                .bind(&p.face_url)
                .bind(&p.ex)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_group_status(&self, group_id: &GroupId, status: GroupStatus) -> Result<bool> {
                let done = sqlx::query("UPDATE im_groups SET status = $2 WHERE group_id = $1")
                    .bind(group_id.as_str())
                    .bind(status as i32)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn member_counts(&self, group_ids: &[GroupId]) -> Result<Vec<(GroupId, i64)>> {
                let mut out = Vec::with_capacity(group_ids.len());
                for chunk in group_ids.chunks(500) {
                    let sql = format!(
                        "SELECT group_id, COUNT(*) FROM group_members WHERE group_id IN ({}) GROUP BY group_id",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    out.extend(rows.into_iter().map(|(g, n)| (GroupId::from_trusted(g), n)));
                }
                Ok(out)
            }

            async fn add_members(&self, members: &[GroupMember]) -> Result<Vec<UserId>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut added = Vec::new();
                for m in members {
                    if Self::insert_member(&mut tx, m).await? {
                        added.push(m.user_id.clone());
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(added)
            }

            async fn remove_members(&self, group_id: &GroupId, user_ids: &[UserId]) -> Result<Vec<UserId>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut removed = Vec::new();
                for u in user_ids {
                    let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                        .bind(group_id.as_str())
                        .bind(u.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if done.rows_affected() > 0 {
                        sqlx::query("DELETE FROM user_conversations WHERE user_id = $1 AND conversation_id = $2")
                            .bind(u.as_str())
                            .bind(confab_core::message::group_conversation_id(group_id))
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        removed.push(u.clone());
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(removed)
            }

            async fn get_member(&self, group_id: &GroupId, user_id: &UserId) -> Result<Option<GroupMember>> {
                let sql = format!(
                    "SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = $1 AND user_id = $2"
                );
                let row: Option<MemberRow> = sqlx::query_as(&sql)
                    .bind(group_id.as_str())
                    .bind(user_id.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(GroupMember::from))
            }

            async fn get_members(&self, group_id: &GroupId, user_ids: &[UserId]) -> Result<Vec<GroupMember>> {
                let mut out = Vec::with_capacity(user_ids.len());
                for chunk in user_ids.chunks(500) {
                    let sql = format!(
                        "SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = $1 AND user_id IN ({}) \
                         ORDER BY join_time, user_id",
                        placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, MemberRow>(&sql).bind(group_id.as_str());
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    out.extend(rows.into_iter().map(GroupMember::from));
                }
                Ok(out)
            }

            async fn list_members(&self, group_id: &GroupId, role: Option<Role>, offset: u32, limit: u32) -> Result<Vec<GroupMember>> {
                let rows: Vec<MemberRow> = match role {
                    Some(role) => {
                        let sql = format!(
                            "SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = $1 AND role_level = $2 \
                             ORDER BY join_time, user_id LIMIT $3 OFFSET $4"
                        );
                        sqlx::query_as(&sql)
                            .bind(group_id.as_str())
                            .bind(role as i32)
                            .bind(sql_count(limit))
                            .bind(sql_count(offset))
                            .fetch_all(self.reader())
                            .await
                    }
                    None => {
                        let sql = format!(
                            "SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = $1 \
                             ORDER BY join_time, user_id LIMIT $2 OFFSET $3"
                        );
                        sqlx::query_as(&sql)
                            .bind(group_id.as_str())
                            .bind(sql_count(limit))
                            .bind(sql_count(offset))
                            .fetch_all(self.reader())
                            .await
                    }
                }
                .map_err(db_err)?;
                Ok(rows.into_iter().map(GroupMember::from).collect())
            }

            async fn update_member(&self, group_id: &GroupId, user_id: &UserId, p: &MemberPatch) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE group_members SET nickname = COALESCE($3, nickname), \
                     face_url = COALESCE($4, face_url), role_level = COALESCE($5, role_level), \
                     mute_end_time = COALESCE($6, mute_end_time), ex = COALESCE($7, ex) \
                     WHERE group_id = $1 AND user_id = $2",
                )
                .bind(group_id.as_str())
                .bind(user_id.as_str())
                .bind(&p.nickname)
                .bind(&p.face_url)
                .bind(p.role.map(|r| r as i32))
                .bind(p.mute_end_time)
                .bind(&p.ex)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn transfer_owner(&self, group_id: &GroupId, old_owner: &UserId, new_owner: &UserId, old_owner_role: Role) -> Result<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                for (user, role) in [(old_owner, old_owner_role), (new_owner, Role::Owner)] {
                    let done = sqlx::query("UPDATE group_members SET role_level = $3 WHERE group_id = $1 AND user_id = $2")
                        .bind(group_id.as_str())
                        .bind(user.as_str())
                        .bind(role as i32)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        tx.rollback().await.map_err(db_err)?;
                        return Err(Error::not_found(format!("{user} is not a member of group {group_id}")));
                    }
                }
                sqlx::query("UPDATE im_groups SET owner_user_id = $2 WHERE group_id = $1")
                    .bind(group_id.as_str())
                    .bind(new_owner.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn member_ids(&self, group_id: &GroupId) -> Result<Vec<UserId>> {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT user_id FROM group_members WHERE group_id = $1")
                    .bind(group_id.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(|(u,)| UserId::from_trusted(u)).collect())
            }

            async fn joined_groups(&self, user_id: &UserId) -> Result<Vec<Group>> {
                let columns = GROUP_COLUMNS
                    .split(", ")
                    .map(|c| format!("g.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT {columns} FROM im_groups g JOIN group_members m ON m.group_id = g.group_id \
                     WHERE m.user_id = $1 AND g.status <> $2 ORDER BY m.join_time, g.group_id"
                );
                let rows: Vec<GroupRow> = sqlx::query_as(&sql)
                    .bind(user_id.as_str())
                    .bind(GroupStatus::Dismissed as i32)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Group::from).collect())
            }

            async fn managed_group_ids(&self, user_id: &UserId) -> Result<Vec<GroupId>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT m.group_id FROM group_members m JOIN im_groups g ON g.group_id = m.group_id \
                     WHERE m.user_id = $1 AND m.role_level IN ($2, $3) AND g.status <> $4 ORDER BY m.group_id",
                )
                .bind(user_id.as_str())
                .bind(Role::Owner as i32)
                .bind(Role::Admin as i32)
                .bind(GroupStatus::Dismissed as i32)
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(|(g,)| GroupId::from_trusted(g)).collect())
            }

            async fn put_group_request(&self, r: &GroupRequest) -> Result<()> {
                let sql = format!(
                    "INSERT INTO group_requests ({GROUP_REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (group_id, user_id) DO UPDATE SET req_msg = excluded.req_msg, \
                     handle_result = excluded.handle_result, handle_msg = excluded.handle_msg, \
                     handled_user_id = excluded.handled_user_id, req_time = excluded.req_time, \
                     handled_time = excluded.handled_time, join_source = excluded.join_source, \
                     inviter_user_id = excluded.inviter_user_id, ex = excluded.ex"
                );
                sqlx::query(&sql)
                    .bind(r.group_id.as_str())
                    .bind(r.user_id.as_str())
                    .bind(&r.req_msg)
                    .bind(r.handle_result as i32)
                    .bind(&r.handle_msg)
                    .bind(&r.handled_user_id)
                    .bind(r.req_time)
                    .bind(r.handled_time)
                    .bind(r.join_source)
                    .bind(&r.inviter_user_id)
                    .bind(&r.ex)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn get_group_request(&self, group_id: &GroupId, user_id: &UserId) -> Result<Option<GroupRequest>> {
                let sql = format!(
                    "SELECT {GROUP_REQUEST_COLUMNS} FROM group_requests WHERE group_id = $1 AND user_id = $2"
                );
                let row: Option<GroupRequestRow> = sqlx::query_as(&sql)
                    .bind(group_id.as_str())
                    .bind(user_id.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(row.map(GroupRequest::from))
            }

            async fn list_group_requests_for(&self, group_ids: &[GroupId]) -> Result<Vec<GroupRequest>> {
                let mut out = Vec::new();
                for chunk in group_ids.chunks(500) {
                    let sql = format!(
                        "SELECT {GROUP_REQUEST_COLUMNS} FROM group_requests WHERE group_id IN ({}) \
                         ORDER BY req_time DESC, group_id, user_id",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, GroupRequestRow>(&sql);
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                    out.extend(rows.into_iter().map(GroupRequest::from));
                }
                out.sort_by(|a, b| b.req_time.cmp(&a.req_time));
                Ok(out)
            }

            async fn list_group_requests_by(&self, user_id: &UserId) -> Result<Vec<GroupRequest>> {
                let sql = format!(
                    "SELECT {GROUP_REQUEST_COLUMNS} FROM group_requests WHERE user_id = $1 \
                     ORDER BY req_time DESC, group_id"
                );
                let rows: Vec<GroupRequestRow> = sqlx::query_as(&sql)
                    .bind(user_id.as_str())
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(GroupRequest::from).collect())
            }

            async fn answer_group_request(
                &self,
                group_id: &GroupId,
                user_id: &UserId,
                result: HandleResult,
                handle_msg: &str,
                handled_by: &UserId,
                now: Millis,
                member: Option<&GroupMember>,
            ) -> Result<bool> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let done = sqlx::query(
                    "UPDATE group_requests SET handle_result = $3, handle_msg = $4, handled_user_id = $5, \
                     handled_time = $6 WHERE group_id = $1 AND user_id = $2",
                )
                .bind(group_id.as_str())
                .bind(user_id.as_str())
                .bind(result as i32)
                .bind(handle_msg)
                .bind(handled_by.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(false);
                }
                if let Some(m) = member {
                    Self::insert_member(&mut tx, m).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }
        }
    };
}

/// What `impl_store!` needs to know of a backend.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}

pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::shaped_chunks;

    #[test]
    fn chunks_come_in_four_sizes() {
        let items: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = shaped_chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [256, 32, 8, 4]);
        let many: Vec<u32> = (0..1100).collect();
        let sizes: Vec<usize> = shaped_chunks(&many).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [512, 512, 64, 8, 4]);
        let flat: Vec<u32> = shaped_chunks(&items).concat();
        assert_eq!(flat, items, "every item once, in order");
        assert!(shaped_chunks::<u32>(&[]).is_empty());
    }
}
