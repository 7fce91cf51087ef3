//! The app access API's sign-in state: SMS codes and sends, phone users and
//! session tokens; and the yunbay API's user tokens.

/// `AccessStore` for `$store`.
macro_rules! impl_access {
    ($store:ident) => {
        mod access {
            use super::$store;
            use $crate::common::db_err;
            use $crate::rows::{UserRow, USER_COLUMNS};
            use confab_core::model::User;
            use confab_core::store::{AccessStore, SmsCodeCheck, SmsSendCounts};
            use confab_core::{Millis, Result, UserId};

            #[async_trait::async_trait]
            impl AccessStore for $store {
                async fn sms_send_counts(&self, phone: &str, ip: &str, phone_since: Millis, ip_since: Millis) -> Result<SmsSendCounts> {
                    let (last_sent_at, phone_sends): (Option<i64>, i64) = sqlx::query_as(
                        "SELECT MAX(sent_at), COUNT(CASE WHEN sent_at >= $2 THEN 1 END) FROM sms_sends WHERE phone = $1",
                    )
                    .bind(phone)
                    .bind(phone_since)
                    .fetch_one(self.writer())
                    .await
                    .map_err(db_err)?;
                    let (ip_sends,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sms_sends WHERE ip = $1 AND sent_at >= $2")
                        .bind(ip)
                        .bind(ip_since)
                        .fetch_one(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(SmsSendCounts { last_sent_at, phone_sends, ip_sends })
                }

                async fn put_sms_code(&self, phone: &str, ip: &str, code_hash: &str, expires_at: Millis, now: Millis) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    sqlx::query(
                        "INSERT INTO sms_codes (phone, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0) \
                         ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
                    )
                    .bind(phone)
                    .bind(code_hash)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    sqlx::query("INSERT INTO sms_sends (phone, ip, sent_at) VALUES ($1, $2, $3)")
                        .bind(phone)
                        .bind(ip)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    // Sends older than a day count for no limit.
                    sqlx::query("DELETE FROM sms_sends WHERE phone = $1 AND sent_at < $2")
                        .bind(phone)
                        .bind(now - 86_400_000)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)
                }

                async fn check_sms_code(&self, phone: &str, code_hash: &str, now: Millis, max_attempts: i64) -> Result<SmsCodeCheck> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let live: Option<(String, i64, i64)> = sqlx::query_as(
                        "SELECT code_hash, expires_at, CAST(attempts AS BIGINT) FROM sms_codes WHERE phone = $1",
                    )
                    .bind(phone)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let check = match live {
                        Some((hash, expires_at, attempts)) if expires_at > now && attempts < max_attempts => {
                            if hash == code_hash {
                                sqlx::query("DELETE FROM sms_codes WHERE phone = $1")
                                    .bind(phone)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(db_err)?;
                                SmsCodeCheck::Accepted
                            } else {
                                sqlx::query("UPDATE sms_codes SET attempts = attempts + 1 WHERE phone = $1")
                                    .bind(phone)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(db_err)?;
                                SmsCodeCheck::Wrong
                            }
                        }
                        _ => SmsCodeCheck::NoCode,
                    };
                    tx.commit().await.map_err(db_err)?;
                    Ok(check)
                }

                async fn phone_user(&self, phone: &str, template: &User) -> Result<(User, bool)> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    Self::lock_numeric_ids(&mut tx).await?;
                    let existing: Option<(String,)> = sqlx::query_as("SELECT user_id FROM phone_users WHERE phone = $1")
                        .bind(phone)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let (user_id, created) = match existing {
                        Some((id,)) => (id, false),
                        None => {
                            // The next number below the named users' range.
                            let sql = format!(
                                "SELECT COALESCE(MAX(numeric_id), 0) + 1 FROM users WHERE numeric_id < {}",
                                confab_core::ids::NAMED_USER_NUMBERS_FROM
                            );
                            let (next,): (i64,) = sqlx::query_as(&sql)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(db_err)?;
                            let id = next.to_string();
                            let user = User {
                                user_id: UserId::from_trusted(id.clone()),
                                ..template.clone()
                            };
                            $store::insert_user(&mut tx, &user, Some(next)).await.map_err(db_err)?;
                            sqlx::query("INSERT INTO phone_users (phone, user_id) VALUES ($1, $2)")
                                .bind(phone)
                                .bind(&id)
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                            (id, true)
                        }
                    };
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1");
                    let row: UserRow = sqlx::query_as(&sql)
                        .bind(&user_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)?;
                    Ok((User::from(row), created))
                }

                async fn put_session(&self, token_hash: &str, user_id: &UserId, device: &str, device_id: &str, now: Millis) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    sqlx::query("DELETE FROM app_sessions WHERE user_id = $1 AND device = $2 AND device_id = $3")
                        .bind(user_id.as_str())
                        .bind(device)
                        .bind(device_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("INSERT INTO app_sessions (token_hash, user_id, device, device_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(token_hash)
                        .bind(user_id.as_str())
                        .bind(device)
                        .bind(device_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)
                }

                async fn get_session(&self, token_hash: &str) -> Result<Option<(UserId, String)>> {
                    let row: Option<(String, String)> = sqlx::query_as("SELECT user_id, device FROM app_sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(row.map(|(user, device)| (UserId::from_trusted(user), device)))
                }

                async fn delete_user_sessions(&self, user_id: &UserId) -> Result<u64> {
                    let done = sqlx::query("DELETE FROM app_sessions WHERE user_id = $1")
                        .bind(user_id.as_str())
                        .execute(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected())
                }

                async fn delete_session(&self, token_hash: &str) -> Result<bool> {
                    let done = sqlx::query("DELETE FROM app_sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn put_user_token(&self, token_hash: &str, user_id: &UserId, expires_at: Millis, now: Millis) -> Result<()> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    sqlx::query("DELETE FROM yunbay_tokens WHERE user_id = $1 AND expires_at <= $2")
                        .bind(user_id.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("INSERT INTO yunbay_tokens (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash)
                        .bind(user_id.as_str())
                        .bind(expires_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)
                }

                async fn get_user_token(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>> {
                    let row: Option<(String,)> = sqlx::query_as("SELECT user_id FROM yunbay_tokens WHERE token_hash = $1 AND expires_at > $2")
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err)?;
                    Ok(row.map(|(user,)| UserId::from_trusted(user)))
                }

                async fn delete_user_tokens(&self, user_id: &UserId) -> Result<u64> {
                    let done = sqlx::query("DELETE FROM yunbay_tokens WHERE user_id = $1")
                        .bind(user_id.as_str())
                        .execute(self.writer())
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}

pub(crate) use impl_access;
