//! Users and their tokens.

/// `UserStore` and `TokenStore` for `$store`.
macro_rules! impl_users {
    ($store:ident) => {
        mod users {
            use super::$store;
            use $crate::common::{db_err, is_unique_violation, sql_count};
            use $crate::rows::{UserRow, USER_COLUMNS};
            use confab_core::model::{GroupStatus, Role, User, UserPatch};
            use confab_core::store::{OwnedGroupFate, SettingStore, TokenStore, UserStore};
            use confab_core::{Error, Millis, Platform, Result, UserId};

            impl $store {
                /// Inserts one user row; `numeric` None takes the next
                /// free number of the named users' range.
                pub(super) async fn insert_user(
                    tx: &mut sqlx::Transaction<'_, <$store as $crate::common::Backend>::Db>,
                    u: &User,
                    numeric: Option<i64>,
                ) -> std::result::Result<(), sqlx::Error> {
                    // A named user takes the next number of the named range.
                    let base = confab_core::ids::NAMED_USER_NUMBERS_FROM;
                    let sql = format!(
                        "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, \
                         COALESCE($2, (SELECT COALESCE(MAX(numeric_id), {base}) + 1 FROM users WHERE numeric_id > {base})), \
                         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    );
                    sqlx::query(&sql)
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
                        .execute(&mut **tx)
                        .await
                        .map(|_| ())
                }
            }

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
                        let inserted = Self::insert_user(&mut tx, u, numeric).await;
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
                    self.fetch_optional::<UserRow, _>(&sql, &[user_id.as_str()]).await
                }

                async fn get_users(&self, user_ids: &[UserId]) -> Result<Vec<User>> {
                    let ids: Vec<&str> = user_ids.iter().map(UserId::as_str).collect();
                    self.fetch_in::<UserRow, _>(
                        |list| format!("SELECT {USER_COLUMNS} FROM users WHERE user_id IN ({list})"),
                        &[],
                        &ids,
                    )
                    .await
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
                        "DELETE FROM phone_users WHERE user_id = $1",
                        "DELETE FROM app_sessions WHERE user_id = $1",
                        "DELETE FROM yunbay_tokens WHERE user_id = $1",
                        "DELETE FROM awaited_acks WHERE user_id = $1",
                        "DELETE FROM broadcast_acks WHERE user_id = $1",
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

                async fn numbered_users(&self, from: i64, limit: u32) -> Result<Vec<User>> {
                    // Walks the numeric_id index; users whose id is not their
                    // number ("alice", "007") are skipped on the way.
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE numeric_id >= $1 \
                         AND user_id = CAST(numeric_id AS TEXT) ORDER BY numeric_id LIMIT $2"
                    );
                    let rows: Vec<UserRow> = sqlx::query_as(&sql)
                        .bind(from)
                        .bind(sql_count(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(rows.into_iter().map(User::from).collect())
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

                async fn live_token(&self, user_id: &UserId, platform: Platform, now: Millis) -> Result<Option<(String, Millis)>> {
                    sqlx::query_as(
                        "SELECT token_id, expires_at FROM user_tokens WHERE user_id = $1 AND platform_id = $2 AND expires_at > $3",
                    )
                    .bind(user_id.as_str())
                    .bind(platform.id())
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(db_err)
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
            impl SettingStore for $store {
                async fn setting_or_init(&self, key: &str, initial: &str) -> Result<String> {
                    // The first writer wins; everyone reads what it wrote.
                    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                        .bind(key)
                        .bind(initial)
                        .execute(self.writer())
                        .await
                        .map_err(db_err)?;
                    let (value,): (String,) = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                        .bind(key)
                        .fetch_one(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(value)
                }
            }
        }
    };
}

pub(crate) use impl_users;
