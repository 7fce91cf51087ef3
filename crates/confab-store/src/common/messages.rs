//! Reading messages, and each user's state in each conversation.
//!
//! Broadcast conversations (`b_...`) have no per-user rows when they are
//! written: every user sees each of them, with their own state where they
//! have a row and the state of a user who has done nothing there otherwise.
//! A user gets a row the first time they change their state (read, clear,
//! pin...), so a notification to a million users costs one message row and
//! only the rows of those who act on it.

/// `MessageStore` for `$store`; the append itself is in `append.rs`.
macro_rules! impl_messages {
    ($store:ident) => {
        mod messages {
            use super::$store;
            use $crate::common::{db_err, sql_count};
            use $crate::rows::{
                broadcast_view_select, MessageRow, UserConversationRow, MESSAGE_COLUMNS, USER_CONVERSATION_SELECT,
            };
            use confab_core::message::{
                is_broadcast_conversation, Appended, ConversationPatch, Message, NewMessage, SessionType, UserConversation,
            };
            use confab_core::store::{ChatFacts, MessageStore};
            use confab_core::{Millis, Result, UserId};

            type Db = <$store as $crate::common::Backend>::Db;
            type Update<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

            impl $store {
                /// Runs `update`, a change to the user's row of
                /// `conversation_id`; false when there is no such row. In a
                /// broadcast conversation that exists (has a message) the row
                /// is made first, in the same transaction, for an existing
                /// user who has none yet; other conversations need no
                /// transaction.
                async fn update_own_row(&self, user_id: &UserId, conversation_id: &str, now: Millis, update: Update<'_>) -> Result<bool> {
                    if !is_broadcast_conversation(conversation_id) {
                        let done = update.execute(self.writer()).await.map_err(db_err)?;
                        return Ok(done.rows_affected() > 0);
                    }
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    sqlx::query(
                        "INSERT INTO user_conversations (user_id, conversation_id, session_type, peer_id, updated_at) \
                         SELECT u.user_id, c.conversation_id, $3, '', $4 FROM conversations c, users u \
                         WHERE c.conversation_id = $2 AND u.user_id = $1 \
                         ON CONFLICT (user_id, conversation_id) DO NOTHING",
                    )
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .bind(SessionType::Notification as i32)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let done = update.execute(&mut *tx).await.map_err(db_err)?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(done.rows_affected() > 0)
                }
            }

            #[async_trait::async_trait]
            impl MessageStore for $store {
                async fn append_messages(&self, batch: &[NewMessage]) -> Result<Vec<Appended>> {
                    self.append_retrying(batch).await
                }

                async fn revoke_message(&self, conversation_id: &str, seq: i64, notice: &NewMessage) -> Result<Option<Appended>> {
                    self.revoke_with_notice(conversation_id, seq, notice).await
                }

                async fn get_message(&self, conversation_id: &str, seq: i64) -> Result<Option<Message>> {
                    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2");
                    let row: Option<MessageRow> = sqlx::query_as(&sql)
                        .bind(conversation_id)
                        .bind(seq)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(row.map(Into::into))
                }

                async fn chat_facts(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<ChatFacts>> {
                    // Only the pairs a send would be refused for come back:
                    // nearly always none, so a batch costs one row-less query
                    // rather than a row per send.
                    let allowed = ChatFacts { recipient_exists: true, recipient_blocks_sender: false };
                    let mut out = vec![allowed; pairs.len()];
                    for (i, exists, blocks) in self.refused_chats(pairs).await? {
                        let slot = out.get_mut(i).ok_or_else(|| confab_core::Error::internal("chat facts named a pair not asked"))?;
                        *slot = ChatFacts { recipient_exists: exists, recipient_blocks_sender: blocks };
                    }
                    Ok(out)
                }

                async fn find_message_by_client_id(&self, conversation_id: &str, client_msg_id: &str) -> Result<Option<Message>> {
                    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_msg_id = $2");
                    self.fetch_optional::<MessageRow, _>(&sql, &[conversation_id, client_msg_id]).await
                }

                async fn get_messages(&self, user_id: &UserId, conversation_id: &str, begin: i64, end: i64, limit: u32) -> Result<Vec<Message>> {
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

                async fn undelivered_count(&self, user_id: &UserId) -> Result<i64> {
                    let (count,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM user_conversations uc \
                         JOIN messages m ON m.conversation_id = uc.conversation_id \
                         WHERE uc.user_id = $1 AND uc.session_type IN ($2, $3, $4) \
                         AND m.seq > uc.delivered_seq AND m.seq > uc.read_seq AND m.seq >= uc.min_seq \
                         AND m.sender_id <> $1 AND m.status = 0 \
                         AND (m.content_type BETWEEN $5 AND $6 OR m.content_type = $7) \
                         AND NOT EXISTS (SELECT 1 FROM user_deleted_messages d \
                             WHERE d.user_id = uc.user_id AND d.conversation_id = m.conversation_id AND d.seq = m.seq)",
                    )
                    .bind(user_id.as_str())
                    .bind(SessionType::Single as i32)
                    .bind(SessionType::Group as i32)
                    .bind(SessionType::SuperGroup as i32)
                    // Chat content only: not revoke notices, receipts, typing
                    // or system notices.
                    .bind(confab_core::message::content_type::TEXT)
                    .bind(confab_core::message::content_type::CUSTOM)
                    .bind(confab_core::message::content_type::QUOTE)
                    .fetch_one(self.reader())
                    .await
                    .map_err(db_err)?;
                    Ok(count)
                }

                async fn max_seq(&self, conversation_id: &str) -> Result<i64> {
                    let row: Option<(i64,)> = sqlx::query_as("SELECT max_seq FROM conversations WHERE conversation_id = $1")
                        .bind(conversation_id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(row.map(|(s,)| s).unwrap_or(0))
                }

                async fn first_seq_since(&self, conversation_id: &str, since: Millis) -> Result<Option<i64>> {
                    // Send times need not grow with seqs: the least seq of
                    // the messages sent since. A broadcast conversation's are
                    // found by the partial index on send times (see its
                    // migration for the query's shape); others walk the
                    // conversation in seq order up to the first one.
                    let sql = if is_broadcast_conversation(conversation_id) {
                        "SELECT MIN(seq + 0) FROM messages WHERE conversation_id = $1 \
                         AND substr(conversation_id, 1, 2) = 'b_' AND send_time >= $2"
                    } else {
                        "SELECT MIN(seq) FROM (SELECT seq FROM messages WHERE conversation_id = $1 \
                         AND send_time >= $2 ORDER BY seq LIMIT 1) AS first"
                    };
                    let (seq,): (Option<i64>,) = sqlx::query_as(sql)
                        .bind(conversation_id)
                        .bind(since)
                        .fetch_one(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(seq)
                }

                async fn user_conversations(&self, user_id: &UserId) -> Result<Vec<UserConversation>> {
                    // The user's rows, then the broadcasts they have no row in.
                    let sql = format!(
                        "{USER_CONVERSATION_SELECT} WHERE uc.user_id = $1 \
                         UNION ALL {} AND uc.user_id IS NULL ORDER BY conversation_id",
                        broadcast_view_select()
                    );
                    self.fetch_all::<UserConversationRow, _>(&sql, &[user_id.as_str()]).await
                }

                async fn user_conversation(&self, user_id: &UserId, conversation_id: &str) -> Result<Option<UserConversation>> {
                    let sql = if is_broadcast_conversation(conversation_id) {
                        format!("{} AND c.conversation_id = $2", broadcast_view_select())
                    } else {
                        format!("{USER_CONVERSATION_SELECT} WHERE uc.user_id = $1 AND uc.conversation_id = $2")
                    };
                    self.fetch_optional::<UserConversationRow, _>(&sql, &[user_id.as_str(), conversation_id]).await
                }

                async fn mark_read(&self, user_id: &UserId, conversation_id: &str, seq: i64, now: Millis) -> Result<bool> {
                    let update = sqlx::query(
                        "UPDATE user_conversations SET \
                         read_seq = CASE WHEN read_seq < $3 THEN $3 ELSE read_seq END, \
                         delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END, \
                         updated_at = $4 WHERE user_id = $1 AND conversation_id = $2",
                    )
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .bind(seq)
                    .bind(now);
                    self.update_own_row(user_id, conversation_id, now, update).await
                }

                async fn mark_delivered(&self, user_id: &UserId, conversation_id: &str, seq: i64, now: Millis) -> Result<bool> {
                    let update = sqlx::query(
                        "UPDATE user_conversations SET \
                         delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END, \
                         updated_at = $4 WHERE user_id = $1 AND conversation_id = $2",
                    )
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .bind(seq)
                    .bind(now);
                    self.update_own_row(user_id, conversation_id, now, update).await
                }

                async fn clear_conversation(&self, user_id: &UserId, conversation_id: &str, now: Millis) -> Result<bool> {
                    let update = sqlx::query(
                        "UPDATE user_conversations SET \
                         min_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0) + 1, \
                         read_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                         delivered_seq = COALESCE((SELECT max_seq FROM conversations WHERE conversation_id = $2), 0), \
                         updated_at = $3 WHERE user_id = $1 AND conversation_id = $2",
                    )
                    .bind(user_id.as_str())
                    .bind(conversation_id)
                    .bind(now);
                    self.update_own_row(user_id, conversation_id, now, update).await
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

                async fn update_user_conversation(&self, user_id: &UserId, conversation_id: &str, p: &ConversationPatch, now: Millis) -> Result<bool> {
                    let update = sqlx::query(
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
                    .bind(p.is_hidden);
                    self.update_own_row(user_id, conversation_id, now, update).await
                }
            }
        }
    };
}

pub(crate) use impl_messages;
