//! Requests to join a group and their answers.

use super::*;
use crate::notices::*;
use confab_core::now_millis;

impl Service {
    /// `user_id` asks to join; an owner or admin answers.
    pub async fn join_group(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        user_id: &UserId,
        req_msg: &str,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        validate::max_len(Field::RequestMessage, req_msg, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        self.require_user(user_id).await?;
        if self.store.get_member(group_id, user_id).await?.is_some() {
            return Err(Error::conflict(format!(
                "{user_id} is already a member of group {group_id}"
            )));
        }
        self.store
            .put_group_request(&GroupRequest {
                group_id: group_id.clone(),
                user_id: user_id.clone(),
                req_msg: req_msg.to_owned(),
                handle_result: HandleResult::Pending,
                handle_msg: String::new(),
                handled_user_id: String::new(),
                req_time: now_millis(),
                handled_time: 0,
                join_source: JOIN_BY_REQUEST,
                inviter_user_id: String::new(),
                ex: String::new(),
            })
            .await?;
        let mut managers = self
            .store
            .list_members(group_id, Some(Role::Owner), 0, 1)
            .await?;
        managers.extend(
            self.store
                .list_members(group_id, Some(Role::Admin), 0, 1000)
                .await?,
        );
        let managers: Vec<UserId> = managers.into_iter().map(|m| m.user_id).collect();
        self.notify_users(
            user_id,
            &managers,
            Notice::JoinGroupApplication {
                group_id: group_id.clone(),
                user_id: user_id.clone(),
                req_msg: req_msg.to_owned(),
            },
        )
        .await;
        Ok(())
    }

    pub async fn answer_group_request(
        &self,
        caller: &Caller,
        group_id: &GroupId,
        applicant: &UserId,
        accept: bool,
        handle_msg: &str,
    ) -> Result<()> {
        validate::max_len(Field::HandleMessage, handle_msg, MAX_TEXT_LEN)?;
        self.live_group(group_id).await?;
        self.manager_role(caller, group_id).await?;
        let request = self
            .store
            .get_group_request(group_id, applicant)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no request from {applicant} to join group {group_id}"
                ))
            })?;
        if request.handle_result != HandleResult::Pending {
            return Err(Error::precondition(format!(
                "the request from {applicant} to join group {group_id} was already answered"
            )));
        }
        let now = now_millis();
        let member = accept.then(|| GroupMember {
            join_source: JOIN_BY_REQUEST,
            operator_user_id: caller.user_id.to_string(),
            ..GroupMember::new(group_id.clone(), applicant.clone(), Role::Member, now)
        });
        let result = if accept {
            HandleResult::Accepted
        } else {
            HandleResult::Refused
        };
        self.store
            .answer_group_request(
                group_id,
                applicant,
                result,
                handle_msg,
                &caller.user_id,
                now,
                member.as_ref(),
            )
            .await?;
        let notice = Notice::GroupApplicationAnswered {
            accepted: accept,
            group_id: group_id.clone(),
            user_id: applicant.clone(),
            op_user_id: caller.user_id.clone(),
            handle_msg: handle_msg.to_owned(),
        };
        if accept {
            self.record_versions(membership(
                group_id,
                std::slice::from_ref(applicant),
                ChangeKind::Insert,
            ))
            .await;
            self.members_changed(group_id);
            self.notify_group(&caller.user_id, group_id, notice).await;
        } else {
            self.notify_users(&caller.user_id, std::slice::from_ref(applicant), notice)
                .await;
        }
        Ok(())
    }

    /// Join requests to the groups `user_id` owns or administers.
    pub async fn group_requests_received(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequest>> {
        caller.require_acts_for(user_id)?;
        let groups = self.store.managed_group_ids(user_id).await?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        self.store.list_group_requests_for(&groups).await
    }

    /// Join requests made by `user_id`.
    pub async fn group_requests_sent(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<GroupRequest>> {
        caller.require_acts_for(user_id)?;
        self.store.list_group_requests_by(user_id).await
    }
}
