//! Group member ids, cached for fan-out. Every membership change made
//! through the service invalidates its group; a change made on another
//! node arrives on the bus as `GroupMembersChanged`, which the service
//! receives as a bus subscriber.

use crate::Service;
use confab_core::bus::{Deliver, Event, Payload};
use confab_core::store::Store;
use confab_core::{GroupId, Result, UserId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub struct MemberCache {
    groups: RwLock<HashMap<GroupId, Arc<[UserId]>>>,
}

impl MemberCache {
    pub async fn get(&self, store: &dyn Store, group: &GroupId) -> Result<Arc<[UserId]>> {
        if let Some(ids) = self
            .groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(group)
        {
            return Ok(ids.clone());
        }
        let ids: Arc<[UserId]> = store.member_ids(group).await?.into();
        self.groups
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(group.clone(), ids.clone());
        Ok(ids)
    }

    pub fn invalidate(&self, group: &GroupId) {
        self.groups
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(group);
    }

    pub fn clear(&self) {
        self.groups
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The service listens on the bus for what its caches must forget.
impl Deliver for Service {
    fn deliver(&self, event: &Event) {
        if let Payload::GroupMembersChanged { group_id } = &event.payload {
            self.members.invalidate(group_id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{Service, ServiceConfig};
    use confab_core::bus::{Bus, BusError, Deliver, Event, Payload};
    use confab_core::model::{Group, GroupMember, GroupStatus, Role, User};
    use confab_core::{GroupId, UserId};
    use std::sync::Arc;

    struct NoBus;

    impl Bus for NoBus {
        fn publish(&self, _: Event) -> Result<(), BusError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_members_changed_event_drops_the_cached_list() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = confab_store::open(&url, confab_store::Durability::Process)
            .await
            .unwrap();
        let service = Service::new(
            store.clone(),
            Arc::new(NoBus),
            Arc::new(confab_core::presence::NobodyOnline),
            ServiceConfig {
                admin_user_ids: vec![],
                admin_secret: "s".into(),
                jwt_secret: b"k".to_vec(),
                token_ttl_secs: 60,
                revoke_window_secs: 60,
                max_content_bytes: 1024,
                system_user_id: confab_core::UserId::parse("system", "admin").unwrap(),
                app_token_ttl_secs: 3600,
                app_client_id: "id".into(),
                app_client_secret: "secret".into(),
                signed_api: Default::default(),
                sms: Default::default(),
            },
        );
        let owner = UserId::parse("u", "owner").unwrap();
        let joiner = UserId::parse("u", "joiner").unwrap();
        let group_id = GroupId::parse("g", "g1").unwrap();
        store
            .create_users(&[User::new(owner.clone(), 0), User::new(joiner.clone(), 0)])
            .await
            .unwrap();
        let group = Group {
            group_id: group_id.clone(),
            group_name: "g".into(),
            notification: String::new(),
            introduction: String::new(),
            face_url: String::new(),
            ex: String::new(),
            group_type: 0,
            status: GroupStatus::Ok,
            creator_user_id: owner.clone(),
            owner_user_id: owner.clone(),
            created_at: 0,
        };
        let member =
            |user: &UserId, role| GroupMember::new(group_id.clone(), user.clone(), role, 0);
        store
            .create_group(&group, &[member(&owner, Role::Owner)])
            .await
            .unwrap();
        let cached = || async { service.members.get(&*store, &group_id).await.unwrap() };
        assert_eq!(cached().await.to_vec(), vec![owner.clone()]);

        // Another node adds a member: this node's list is stale until told.
        store
            .add_members(&[member(&joiner, Role::Member)])
            .await
            .unwrap();
        assert_eq!(cached().await.to_vec(), vec![owner.clone()]);
        service.deliver(&Event {
            recipients: vec![],
            origin: None,
            payload: Payload::GroupMembersChanged {
                group_id: group_id.clone(),
            },
            filter: None,
        });
        let mut members = cached().await.to_vec();
        members.sort();
        assert_eq!(members, [joiner, owner]);
    }
}
