//! System notifications: their deployment-wide ids, the acks each user
//! still owes, and users' acks of broadcasts.

/// `NotificationStore` for `$store`.
macro_rules! impl_notifications {
    ($store:ident) => {
        mod notifications {
            use super::$store;
            use $crate::common::{db_err, shaped_chunks, sql_count, IN_LIST_CHUNK};
            use $crate::rows::placeholders;
            use confab_core::store::{AwaitedAck, NotificationStore};
            use confab_core::{Millis, Result, UserId};

            #[async_trait::async_trait]
            impl NotificationStore for $store {
                async fn next_notification_id(&self) -> Result<i64> {
                    // One row, bumped in place: the upsert holds its lock
                    // (PostgreSQL; SQLite has a single writer) until commit.
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO counters (name, value) VALUES ('notification', 1) \
                         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
                    )
                    .fetch_one(self.writer())
                    .await
                    .map_err(db_err)?;
                    Ok(id)
                }

                async fn await_acks(&self, awaited: &[AwaitedAck], now: Millis) -> Result<()> {
                    if awaited.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    for chunk in shaped_chunks(awaited) {
                        let values = (0..chunk.len())
                            .map(|i| {
                                let row: Vec<String> = (1..=4).map(|k| Self::param(4 * i + k)).collect();
                                format!("({})", row.join(", "))
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sql = format!(
                            "INSERT INTO awaited_acks (user_id, notification_id, body, created_at) VALUES {values} \
                             ON CONFLICT (user_id, notification_id) DO NOTHING"
                        );
                        let mut q = sqlx::query(&sql);
                        for a in chunk {
                            q = q.bind(a.user_id.as_str()).bind(a.notification_id).bind(&a.body).bind(now);
                        }
                        q.execute(&mut *tx).await.map_err(db_err)?;
                    }
                    tx.commit().await.map_err(db_err)
                }

                async fn forget_awaited_acks(&self, notification_id: i64) -> Result<u64> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let mut forgotten = 0;
                    for table in ["awaited_acks", "ack_broadcasts"] {
                        let done = sqlx::query(&format!("DELETE FROM {table} WHERE notification_id = $1"))
                            .bind(notification_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        forgotten += done.rows_affected();
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(forgotten)
                }

                async fn put_ack_broadcast(&self, notification_id: i64, body: &str, sent_at: Millis, forget_before: Millis) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    sqlx::query("DELETE FROM ack_broadcasts WHERE sent_at < $1")
                        .bind(forget_before)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query(
                        "INSERT INTO ack_broadcasts (notification_id, body, sent_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (notification_id) DO NOTHING",
                    )
                    .bind(notification_id)
                    .bind(body)
                    .bind(sent_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)
                }

                async fn unacked_broadcasts(&self, user_id: &UserId, since: Millis, limit: u32) -> Result<Vec<AwaitedAck>> {
                    let rows: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT b.notification_id, b.body FROM ack_broadcasts b WHERE b.sent_at >= $2 \
                         AND NOT EXISTS (SELECT 1 FROM broadcast_acks a WHERE a.user_id = $1 AND a.notification_id = b.notification_id) \
                         ORDER BY b.notification_id LIMIT $3",
                    )
                    .bind(user_id.as_str())
                    .bind(since)
                    .bind(sql_count(limit))
                    .fetch_all(self.writer())
                    .await
                    .map_err(db_err)?;
                    Ok(rows
                        .into_iter()
                        .map(|(notification_id, body)| AwaitedAck { user_id: user_id.clone(), notification_id, body })
                        .collect())
                }

                async fn is_ack_broadcast(&self, notification_id: i64, since: Millis) -> Result<bool> {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "SELECT notification_id FROM ack_broadcasts WHERE notification_id = $1 AND sent_at >= $2",
                    )
                    .bind(notification_id)
                    .bind(since)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(db_err)?;
                    Ok(row.is_some())
                }

                async fn awaited_acks(&self, user_id: &UserId, limit: u32) -> Result<Vec<AwaitedAck>> {
                    let rows: Vec<(String, i64, String)> = sqlx::query_as(
                        "SELECT user_id, notification_id, body FROM awaited_acks WHERE user_id = $1 \
                         ORDER BY notification_id LIMIT $2",
                    )
                    .bind(user_id.as_str())
                    .bind(sql_count(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                    Ok(rows
                        .into_iter()
                        .map(|(user, notification_id, body)| AwaitedAck { user_id: UserId::from_trusted(user), notification_id, body })
                        .collect())
                }

                async fn ack_awaited(&self, user_id: &UserId, notification_id: i64) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM awaited_acks WHERE user_id = $1 AND notification_id = $2")
                        .bind(user_id.as_str())
                        .bind(notification_id)
                        .execute(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn put_broadcast_ack(&self, user_id: &UserId, notification_id: i64, now: Millis, forget_before: Millis) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    // The old ones first: an ack made again now is kept,
                    // even when its first time was before `forget_before`.
                    sqlx::query("DELETE FROM broadcast_acks WHERE user_id = $1 AND acked_at < $2")
                        .bind(user_id.as_str())
                        .bind(forget_before)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query(
                        "INSERT INTO broadcast_acks (user_id, notification_id, acked_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id, notification_id) DO NOTHING",
                    )
                    .bind(user_id.as_str())
                    .bind(notification_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)
                }

                async fn broadcast_acks(&self, user_id: &UserId, notification_ids: &[i64]) -> Result<Vec<i64>> {
                    let mut out = Vec::new();
                    for chunk in notification_ids.chunks(IN_LIST_CHUNK) {
                        let sql = format!(
                            "SELECT notification_id FROM broadcast_acks WHERE user_id = $1 AND notification_id IN ({})",
                            placeholders(2, chunk.len())
                        );
                        let mut q = sqlx::query_as::<_, (i64,)>(&sql).bind(user_id.as_str());
                        for id in chunk {
                            q = q.bind(*id);
                        }
                        out.extend(q.fetch_all(self.reader()).await.map_err(db_err)?.into_iter().map(|(id,)| id));
                    }
                    out.sort_unstable();
                    out.dedup();
                    Ok(out)
                }
            }
        }
    };
}

pub(crate) use impl_notifications;
