//! Groups, their members and join requests.

/// `GroupStore` for `$store`.
macro_rules! impl_groups {
    ($store:ident) => {
        mod groups {
            use super::$store;
            use $crate::common::{db_err, is_unique_violation, sql_count};
            use $crate::rows::{
                GroupRequestRow, GroupRow, MemberRow, GROUP_COLUMNS, GROUP_REQUEST_COLUMNS,
                MEMBER_COLUMNS,
            };
            use confab_core::message::{group_conversation_id, SessionType};
            use confab_core::model::{
                Group, GroupMember, GroupPatch, GroupRequest, GroupStatus, HandleResult,
                MemberPatch, Role,
            };
            use confab_core::store::GroupStore;
            use confab_core::{Error, GroupId, Millis, Result, UserId};

            type Db = <$store as $crate::common::Backend>::Db;

            impl $store {
                /// Adds a member unless they are one; true when they were new.
                async fn insert_member(tx: &mut sqlx::Transaction<'_, Db>, m: &GroupMember) -> Result<bool> {
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
                    .bind(group_conversation_id(&m.group_id))
                    .bind(SessionType::Group as i32)
                    .bind(m.group_id.as_str())
                    .bind(m.join_time)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                    Ok(true)
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
                    self.fetch_optional::<GroupRow, _>(&sql, &[group_id.as_str()]).await
                }

                async fn get_groups(&self, group_ids: &[GroupId]) -> Result<Vec<Group>> {
                    let ids: Vec<&str> = group_ids.iter().map(GroupId::as_str).collect();
                    self.fetch_in::<GroupRow, _>(
                        |list| format!("SELECT {GROUP_COLUMNS} FROM im_groups WHERE group_id IN ({list})"),
                        &[],
                        &ids,
                    )
                    .await
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
                    let ids: Vec<&str> = group_ids.iter().map(GroupId::as_str).collect();
                    let counts = self
                        .fetch_in::<(String, i64), (String, i64)>(
                            |list| format!("SELECT group_id, COUNT(*) FROM group_members WHERE group_id IN ({list}) GROUP BY group_id"),
                            &[],
                            &ids,
                        )
                        .await?;
                    Ok(counts.into_iter().map(|(g, n)| (GroupId::from_trusted(g), n)).collect())
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
                                .bind(group_conversation_id(group_id))
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
                    self.fetch_optional::<MemberRow, _>(&sql, &[group_id.as_str(), user_id.as_str()]).await
                }

                async fn get_members(&self, group_id: &GroupId, user_ids: &[UserId]) -> Result<Vec<GroupMember>> {
                    let ids: Vec<&str> = user_ids.iter().map(UserId::as_str).collect();
                    self.fetch_in::<MemberRow, _>(
                        |list| {
                            format!(
                                "SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = $1 AND user_id IN ({list}) \
                                 ORDER BY join_time, user_id"
                            )
                        },
                        &[group_id.as_str()],
                        &ids,
                    )
                    .await
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
                    let rows = self
                        .fetch_all::<(String,), (String,)>("SELECT user_id FROM group_members WHERE group_id = $1", &[group_id.as_str()])
                        .await?;
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
                    self.fetch_optional::<GroupRequestRow, _>(&sql, &[group_id.as_str(), user_id.as_str()]).await
                }

                async fn list_group_requests_for(&self, group_ids: &[GroupId]) -> Result<Vec<GroupRequest>> {
                    let ids: Vec<&str> = group_ids.iter().map(GroupId::as_str).collect();
                    let mut out: Vec<GroupRequest> = self
                        .fetch_in::<GroupRequestRow, _>(
                            |list| {
                                format!(
                                    "SELECT {GROUP_REQUEST_COLUMNS} FROM group_requests WHERE group_id IN ({list}) \
                                     ORDER BY req_time DESC, group_id, user_id"
                                )
                            },
                            &[],
                            &ids,
                        )
                        .await?;
                    out.sort_by(|a, b| b.req_time.cmp(&a.req_time));
                    Ok(out)
                }

                async fn list_group_requests_by(&self, user_id: &UserId) -> Result<Vec<GroupRequest>> {
                    let sql = format!(
                        "SELECT {GROUP_REQUEST_COLUMNS} FROM group_requests WHERE user_id = $1 \
                         ORDER BY req_time DESC, group_id"
                    );
                    self.fetch_all::<GroupRequestRow, _>(&sql, &[user_id.as_str()]).await
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
        }
    };
}

pub(crate) use impl_groups;
