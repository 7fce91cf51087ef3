//! Relations: friends (directed edges), blocks and friend requests.

/// `RelationStore` for `$store`.
macro_rules! impl_relations {
    ($store:ident) => {
        mod relations {
            use super::$store;
            use $crate::common::db_err;
            use $crate::rows::{
                BlackRow, FriendRequestRow, FriendRow, BLACK_COLUMNS, FRIEND_COLUMNS,
                FRIEND_REQUEST_COLUMNS,
            };
            use confab_core::model::{Black, Friend, FriendRequest, HandleResult};
            use confab_core::store::RelationStore;
            use confab_core::{Millis, Result, UserId};

            type Db = <$store as $crate::common::Backend>::Db;

            impl $store {
                /// Inserts a friend edge unless it exists; true when it was new.
                async fn insert_friend(tx: &mut sqlx::Transaction<'_, Db>, f: &Friend) -> Result<bool> {
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
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?;
                    Ok(done.rows_affected() > 0)
                }
            }

            #[async_trait::async_trait]
            impl RelationStore for $store {
                async fn add_friends(&self, edges: &[Friend]) -> Result<u64> {
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let mut added = 0;
                    for f in edges {
                        if Self::insert_friend(&mut tx, f).await? {
                            added += 1;
                        }
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
                    self.fetch_optional::<FriendRow, _>(&sql, &[owner.as_str(), friend.as_str()]).await
                }

                async fn list_friends(&self, owner: &UserId) -> Result<Vec<Friend>> {
                    let sql = format!(
                        "SELECT {FRIEND_COLUMNS} FROM friends WHERE owner_user_id = $1 \
                         ORDER BY created_at, friend_user_id"
                    );
                    self.fetch_all::<FriendRow, _>(&sql, &[owner.as_str()]).await
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
                    self.fetch_optional::<BlackRow, _>(&sql, &[owner.as_str(), blocked.as_str()]).await
                }

                async fn list_blacks(&self, owner: &UserId) -> Result<Vec<Black>> {
                    let sql = format!(
                        "SELECT {BLACK_COLUMNS} FROM blacks WHERE owner_user_id = $1 ORDER BY created_at, block_user_id"
                    );
                    self.fetch_all::<BlackRow, _>(&sql, &[owner.as_str()]).await
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
                    self.fetch_optional::<FriendRequestRow, _>(&sql, &[from.as_str(), to.as_str()]).await
                }

                async fn list_friend_requests_to(&self, to: &UserId) -> Result<Vec<FriendRequest>> {
                    let sql = format!(
                        "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE to_user_id = $1 \
                         ORDER BY created_at DESC, from_user_id"
                    );
                    self.fetch_all::<FriendRequestRow, _>(&sql, &[to.as_str()]).await
                }

                async fn list_friend_requests_from(&self, from: &UserId) -> Result<Vec<FriendRequest>> {
                    let sql = format!(
                        "SELECT {FRIEND_REQUEST_COLUMNS} FROM friend_requests WHERE from_user_id = $1 \
                         ORDER BY created_at DESC, to_user_id"
                    );
                    self.fetch_all::<FriendRequestRow, _>(&sql, &[from.as_str()]).await
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
                        Self::insert_friend(&mut tx, f).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(true)
                }
            }
        }
    };
}

pub(crate) use impl_relations;
