//! Chatrooms: online-only rooms. Their members are kept in memory on this
//! node, and their messages are pushed to the members online at that moment
//! and never stored (no seq, no sync).
//!
//! Rules: an app admin creates a room for an owner, or a user for
//! themselves; users join and leave themselves (admins for anyone) up to the
//! room's `max_members`; members and admins send, and see who is online.

use crate::appender::Delivery;
use crate::auth::Caller;
use crate::send::{OutgoingMessage, PendingSend};
use crate::Service;
use confab_core::bus::{Event, Payload, SessionId};
use confab_core::message::{chatroom_conversation_id, SessionType};
use confab_core::validate::{self, MAX_NAME_LEN};
use confab_core::{now_millis, ChatroomId, Error, Field, Millis, Result, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Members of a room when its creator sets no limit.
pub const DEFAULT_CHATROOM_MAX_MEMBERS: usize = 5000;
/// The largest limit a room may have.
pub const MAX_CHATROOM_MEMBERS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chatroom {
    pub room_id: ChatroomId,
    pub name: String,
    pub description: String,
    pub owner: UserId,
    pub max_members: usize,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewChatroom {
    /// Chosen by the caller, or generated when None.
    pub room_id: Option<ChatroomId>,
    pub name: String,
    pub description: String,
    pub owner: UserId,
    /// `DEFAULT_CHATROOM_MAX_MEMBERS` when None.
    pub max_members: Option<usize>,
}

struct Room {
    info: Chatroom,
    /// In joining order.
    members: Vec<UserId>,
}

/// The rooms of this node.
#[derive(Default)]
pub(crate) struct Chatrooms {
    rooms: Mutex<HashMap<ChatroomId, Room>>,
}

impl Chatrooms {
    fn with_room<T>(&self, id: &ChatroomId, f: impl FnOnce(&mut Room) -> Result<T>) -> Result<T> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let room = rooms
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("chatroom {id} does not exist")))?;
        f(room)
    }
}

fn require_member(room: &Room, caller: &Caller) -> Result<()> {
    if caller.is_admin || room.members.contains(&caller.user_id) {
        Ok(())
    } else {
        Err(Error::denied(format!(
            "{} is not a member of chatroom {}",
            caller.user_id, room.info.room_id
        )))
    }
}

impl Service {
    pub async fn create_chatroom(&self, caller: &Caller, new: NewChatroom) -> Result<Chatroom> {
        caller.require_acts_for(&new.owner)?;
        validate::max_len(Field::GroupName, &new.name, MAX_NAME_LEN)?;
        validate::max_len(
            Field::Introduction,
            &new.description,
            confab_core::validate::MAX_TEXT_LEN,
        )?;
        let max_members = new.max_members.unwrap_or(DEFAULT_CHATROOM_MAX_MEMBERS);
        if !(1..=MAX_CHATROOM_MEMBERS).contains(&max_members) {
            return Err(Error::invalid_field(
                Field::MaxMembers,
                format!("must be between 1 and {MAX_CHATROOM_MEMBERS}"),
            ));
        }
        self.require_user(&new.owner).await?;
        let room_id = new
            .room_id
            .unwrap_or_else(|| ChatroomId::from_trusted(uuid::Uuid::new_v4().simple().to_string()));
        let info = Chatroom {
            room_id: room_id.clone(),
            name: new.name,
            description: new.description,
            owner: new.owner.clone(),
            max_members,
            created_at: now_millis(),
        };
        let mut rooms = self
            .chatrooms
            .rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if rooms.contains_key(&room_id) {
            return Err(Error::conflict(format!(
                "chatroom {room_id} already exists"
            )));
        }
        rooms.insert(
            room_id,
            Room {
                info: info.clone(),
                members: vec![new.owner],
            },
        );
        Ok(info)
    }

    pub fn chatroom(&self, room_id: &ChatroomId) -> Result<Chatroom> {
        self.chatrooms
            .with_room(room_id, |room| Ok(room.info.clone()))
    }

    /// Ends a room. Its owner or an app admin only.
    pub fn delete_chatroom(&self, caller: &Caller, room_id: &ChatroomId) -> Result<Chatroom> {
        let owner = self.chatroom(room_id)?.owner;
        caller.require_acts_for(&owner)?;
        let mut rooms = self
            .chatrooms
            .rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        rooms
            .remove(room_id)
            .map(|room| room.info)
            .ok_or_else(|| Error::not_found(format!("chatroom {room_id} does not exist")))
    }

    /// Adds `user_id` to the room (nothing when already in it).
    pub async fn join_chatroom(
        &self,
        caller: &Caller,
        room_id: &ChatroomId,
        user_id: &UserId,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        if caller.user_id != *user_id {
            self.require_user(user_id).await?;
        }
        let members = self
            .chatrooms
            .with_room(room_id, |room| Ok(room.members.clone()))?;
        if members.contains(user_id) {
            return Ok(());
        }
        // The room is online-only: members who went away leave it, so
        // they do not hold places.
        let online = self.presence.online_among(&members).await?;
        self.chatrooms.with_room(room_id, |room| {
            if room.members.contains(user_id) {
                return Ok(());
            }
            // Those who joined since the members were read stay too.
            room.members
                .retain(|m| online.contains(m) || !members.contains(m));
            if room.members.len() >= room.info.max_members {
                return Err(Error::precondition(format!(
                    "chatroom {room_id} is full ({} members)",
                    room.info.max_members
                )));
            }
            room.members.push(user_id.clone());
            Ok(())
        })
    }

    pub fn leave_chatroom(
        &self,
        caller: &Caller,
        room_id: &ChatroomId,
        user_id: &UserId,
    ) -> Result<()> {
        caller.require_acts_for(user_id)?;
        self.chatrooms.with_room(room_id, |room| {
            let before = room.members.len();
            room.members.retain(|m| m != user_id);
            if room.members.len() == before {
                return Err(Error::not_found(format!(
                    "{user_id} is not in chatroom {room_id}"
                )));
            }
            Ok(())
        })
    }

    /// Every room, with how many of its members are online now. App
    /// administrators only.
    pub async fn list_chatrooms(&self, caller: &Caller) -> Result<Vec<(Chatroom, usize)>> {
        caller.require_admin()?;
        let rooms: Vec<(Chatroom, Vec<UserId>)> = {
            let rooms = self
                .chatrooms
                .rooms
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            rooms
                .values()
                .map(|room| (room.info.clone(), room.members.clone()))
                .collect()
        };
        let mut out = Vec::with_capacity(rooms.len());
        for (info, members) in rooms {
            let online = self.presence.online_among(&members).await?.len();
            out.push((info, online));
        }
        out.sort_by_key(|(room, _)| room.created_at);
        Ok(out)
    }

    /// Takes a user who went offline out of every room.
    pub fn leave_all_chatrooms(&self, user_id: &UserId) {
        let mut rooms = self
            .chatrooms
            .rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for room in rooms.values_mut() {
            room.members.retain(|m| m != user_id);
        }
    }

    /// The members of the room who are online now, in joining order.
    /// Members and app admins may ask.
    pub async fn chatroom_members_online(
        &self,
        caller: &Caller,
        room_id: &ChatroomId,
    ) -> Result<Vec<UserId>> {
        let members = self.chatrooms.with_room(room_id, |room| {
            require_member(room, caller)?;
            Ok(room.members.clone())
        })?;
        self.presence.online_among(&members).await
    }

    /// Pushes a message to the members online; nothing is stored.
    pub(crate) async fn send_to_chatroom(
        &self,
        caller: &Caller,
        origin: Option<SessionId>,
        room_id: &ChatroomId,
        m: OutgoingMessage,
        content: &str,
    ) -> Result<PendingSend> {
        if caller.user_id != m.sender {
            self.require_user(&m.sender).await?;
        }
        let sender = Caller {
            user_id: m.sender.clone(),
            ..caller.clone()
        };
        let recipients = self.chatroom_members_online(&sender, room_id).await?;
        let message = m.to_message(
            chatroom_conversation_id(room_id),
            SessionType::Chatroom,
            room_id.as_str(),
            content,
        );
        self.appender.deliver(Delivery::Event(Event {
            recipients,
            origin,
            payload: Payload::Message(Arc::new(message.clone())),
            filter: None,
        }));
        Ok(PendingSend::done(message))
    }
}
