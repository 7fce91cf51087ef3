//! The batch append (group commit): a batch of messages in one transaction
//! with a constant number of statements, and the revoke that appends its
//! notice the same way.

/// The append of `$store`, called by its `MessageStore` implementation.
macro_rules! impl_append {
    ($store:ident) => {
        mod append {
            use super::$store;
            use $crate::common::{db_err, is_transient, shaped_chunks, AppendError};
            use $crate::recent_sends::{RecentSends, SendKey};
            use confab_core::message::{Appended, Message, MessageStatus, NewMessage};
            use confab_core::{Error, Result, UserId};
            use std::collections::HashMap;

            type Db = <$store as $crate::common::Backend>::Db;

            /// How often a batch runs before a transient failure is reported.
            const ATTEMPTS: u32 = 4;

            impl $store {
                /// `MessageStore::append_messages`: the batch in one
                /// transaction. Batches from several nodes may deadlock on
                /// conversation rows (PostgreSQL aborts one); such a batch is
                /// simply run again.
                pub(super) async fn append_retrying(&self, batch: &[NewMessage]) -> Result<Vec<Appended>> {
                    if batch.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut recent = self.recent_sends().await;
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        let mut tx = self.writer().begin().await.map_err(db_err)?;
                        match Self::append_batch(&mut tx, batch, recent.as_deref()).await {
                            Ok((out, sends)) => match tx.commit().await {
                                Ok(()) => {
                                    remember(recent.as_deref_mut(), sends);
                                    return Ok(out);
                                }
                                Err(e) if attempt < ATTEMPTS && is_transient(&e) => continue,
                                Err(e) => return Err(db_err(e)),
                            },
                            Err(AppendError::Db(e)) if attempt < ATTEMPTS && is_transient(&e) => {
                                let _ = tx.rollback().await;
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }

                /// `MessageStore::revoke_message`: marks the message revoked
                /// and appends `notice` in one transaction.
                pub(super) async fn revoke_with_notice(&self, conversation_id: &str, seq: i64, notice: &NewMessage) -> Result<Option<Appended>> {
                    let mut recent = self.recent_sends().await;
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let done = sqlx::query("UPDATE messages SET status = $3 WHERE conversation_id = $1 AND seq = $2")
                        .bind(conversation_id)
                        .bind(seq)
                        .bind(MessageStatus::Revoked as i32)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        tx.rollback().await.map_err(db_err)?;
                        return Ok(None);
                    }
                    let (mut appended, sends) = Self::append_batch(&mut tx, std::slice::from_ref(notice), recent.as_deref())
                        .await
                        .map_err(Error::from)?;
                    let appended = appended.pop().ok_or_else(|| Error::internal("an append returned nothing"))?;
                    tx.commit().await.map_err(db_err)?;
                    remember(recent.as_deref_mut(), sends);
                    Ok(Some(appended))
                }

                /// Appends a batch with a constant number of statements: one
                /// lookup of resends, one insert of new conversations (and
                /// their participants), one seq bump per batch of
                /// conversations, one insert of the messages. Returns the
                /// new sends' log rows too, for the index of recent sends to
                /// learn once the batch is committed.
                async fn append_batch(
                    tx: &mut sqlx::Transaction<'_, Db>,
                    batch: &[NewMessage],
                    recent: Option<&RecentSends>,
                ) -> std::result::Result<(Vec<Appended>, Vec<(i64, SendKey)>), AppendError> {
                    let stored = Self::stored_sends(tx, batch, recent).await?;

                    // What is new, in order; repeats within the batch are resends.
                    enum Slot {
                        Stored(Box<Message>),
                        New(usize),
                        SameAs(usize),
                    }
                    let mut slots = Vec::with_capacity(batch.len());
                    let mut fresh: Vec<&NewMessage> = Vec::new();
                    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
                    for new in batch {
                        let m = &new.message;
                        // (No key is built when nothing was resent, the usual case.)
                        let existing = match stored.is_empty() {
                            true => None,
                            false => stored.get(&(m.sender_id.to_string(), m.client_msg_id.clone())),
                        };
                        if let Some(existing) = existing {
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
                    let mut counts: Vec<(&str, i64, &NewMessage)> = Vec::new();
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
                    let mut created: Vec<&NewMessage> = Vec::new();
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
                    let participants: Vec<(&NewMessage, &(UserId, String))> = created
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
                    let mut sends: Vec<(i64, SendKey)> = Vec::new();
                    for new in &fresh {
                        let mut m = new.message.clone();
                        let seq = next.get_mut(m.conversation_id.as_str()).ok_or_else(|| AppendError::Other(Error::internal("no seq")))?;
                        m.seq = *seq;
                        *seq += 1;
                        messages.push(m);
                    }

                    let rows = Self::insert_messages(tx, &messages).await?;
                    if recent.is_some() {
                        sends = rows
                            .into_iter()
                            .zip(&messages)
                            .map(|(row, m)| (row, RecentSends::key(m.sender_id.as_str(), &m.client_msg_id)))
                            .collect();
                    }

                    // Each new message moves into its answer; a repeat within
                    // the batch (rare) gets a copy, taken before the moves.
                    let repeats: Vec<Option<Message>> = slots
                        .iter()
                        .map(|slot| match slot {
                            Slot::SameAs(i) => messages.get(*i).cloned(),
                            _ => None,
                        })
                        .collect();
                    let mut messages: Vec<Option<Message>> = messages.into_iter().map(Some).collect();
                    let mut out = Vec::with_capacity(slots.len());
                    for (slot, repeat) in slots.into_iter().zip(repeats) {
                        let (message, duplicate) = match slot {
                            Slot::Stored(message) => (Some(*message), true),
                            Slot::New(i) => (messages.get_mut(i).and_then(Option::take), false),
                            Slot::SameAs(_) => (repeat, true),
                        };
                        let message = message.ok_or_else(|| AppendError::Other(Error::internal("a new message was answered twice")))?;
                        out.push(Appended { message, duplicate });
                    }
                    Ok((out, sends))
                }
            }

            /// Teaches the index of recent sends (if the backend keeps one)
            /// the sends of a committed batch.
            fn remember(recent: Option<&mut RecentSends>, sends: Vec<(i64, SendKey)>) {
                if let Some(recent) = recent {
                    for (row, key) in sends {
                        recent.remember(row, key);
                    }
                }
            }
        }
    };
}

pub(crate) use impl_append;
