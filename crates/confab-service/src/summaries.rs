//! A user's conversations with what a conversation list shows of each:
//! the last message, the peer (and whether a friend) or the group. One
//! call for a client's list (OpenIM's JS SDK builds its list from it).

use crate::auth::Caller;
use crate::groups::GroupInfo;
use crate::Service;
use confab_core::message::{Message, SessionType, UserConversation};
use confab_core::model::{Friend, User};
use confab_core::{validate, Field, GroupId, Result, UserId};
use std::collections::HashMap;

/// Most conversations one summary call returns.
pub const MAX_SUMMARIES: usize = 1000;

/// One conversation of a list.
#[derive(Debug, Clone)]
pub struct ConversationSummary {
    pub conversation: UserConversation,
    /// The message at the conversation's max seq, when the user sees it.
    pub last: Option<Message>,
    /// The other user of a chat.
    pub peer: Option<User>,
    /// The user's friendship with the peer, if any.
    pub friend: Option<Friend>,
    pub group: Option<GroupInfo>,
}

/// What `conversation_summaries` returns: the conversations asked for (or
/// the newest active ones), and the user's unread messages in all of them.
#[derive(Debug, Clone)]
pub struct Summaries {
    pub conversations: Vec<ConversationSummary>,
    pub unread: i64,
}

impl Service {
    /// The user's chats and groups that hold a message, newest first, at
    /// most `limit` of them (all when `ids` is given: those conversations,
    /// in that order, those the user has). `unread` counts over all the
    /// user's chats and groups, as an app badge does.
    pub async fn conversation_summaries(
        &self,
        caller: &Caller,
        user_id: &UserId,
        ids: Option<&[String]>,
        limit: usize,
    ) -> Result<Summaries> {
        if let Some(ids) = ids {
            validate::batch(Field::Conversations, ids, MAX_SUMMARIES)?;
        }
        let all = self.conversations(caller, user_id).await?;
        let listed = |c: &UserConversation| {
            matches!(
                c.session_type,
                SessionType::Single | SessionType::Group | SessionType::SuperGroup
            )
        };
        let unread = all
            .iter()
            .filter(|c| listed(c))
            .map(UserConversation::unread)
            .sum();
        let mut chosen: Vec<UserConversation> = match ids {
            Some(ids) => {
                let mut by_id: HashMap<&str, &UserConversation> = all
                    .iter()
                    .map(|c| (c.conversation_id.as_str(), c))
                    .collect();
                ids.iter()
                    .filter_map(|id| by_id.remove(id.as_str()).cloned())
                    .collect()
            }
            None => all
                .iter()
                .filter(|c| listed(c) && c.max_seq >= c.min_seq.max(1))
                .cloned()
                .collect(),
        };
        let mut out = Vec::with_capacity(chosen.len());
        for c in chosen.drain(..) {
            let last = if c.max_seq >= c.min_seq.max(1) {
                self.store
                    .get_message(&c.conversation_id, c.max_seq)
                    .await?
            } else {
                None
            };
            out.push(ConversationSummary {
                conversation: c,
                last,
                peer: None,
                friend: None,
                group: None,
            });
        }
        if ids.is_none() {
            out.sort_by_key(|s| std::cmp::Reverse(s.last.as_ref().map_or(0, |m| m.send_time)));
            out.truncate(limit.clamp(1, MAX_SUMMARIES));
        }
        self.fill_summaries(user_id, &mut out).await?;
        Ok(Summaries {
            conversations: out,
            unread,
        })
    }

    /// Adds the peers, friendships and groups of `summaries`.
    async fn fill_summaries(
        &self,
        user_id: &UserId,
        summaries: &mut [ConversationSummary],
    ) -> Result<()> {
        let peers: Vec<UserId> = summaries
            .iter()
            .filter(|s| s.conversation.session_type == SessionType::Single)
            .map(|s| UserId::from_trusted(s.conversation.peer_id.clone()))
            .collect();
        let groups: Vec<GroupId> = summaries
            .iter()
            .filter(|s| s.conversation.session_type.is_group())
            .map(|s| GroupId::from_trusted(s.conversation.peer_id.clone()))
            .collect();
        let users: HashMap<UserId, User> = self
            .store
            .get_users(&peers)
            .await?
            .into_iter()
            .map(|u| (u.user_id.clone(), u))
            .collect();
        let counts: HashMap<GroupId, i64> = self
            .store
            .member_counts(&groups)
            .await?
            .into_iter()
            .collect();
        let groups: HashMap<GroupId, GroupInfo> = self
            .store
            .get_groups(&groups)
            .await?
            .into_iter()
            .map(|g| {
                let member_count = counts.get(&g.group_id).copied().unwrap_or(0);
                (
                    g.group_id.clone(),
                    GroupInfo {
                        group: g,
                        member_count,
                    },
                )
            })
            .collect();
        for s in summaries.iter_mut() {
            let peer = s.conversation.peer_id.as_str();
            if s.conversation.session_type == SessionType::Single {
                let id = UserId::from_trusted(peer.to_owned());
                s.friend = self.store.get_friend(user_id, &id).await?;
                s.peer = users.get(&id).cloned();
            } else if s.conversation.session_type.is_group() {
                s.group = groups.get(&GroupId::from_trusted(peer.to_owned())).cloned();
            }
        }
        Ok(())
    }
}
