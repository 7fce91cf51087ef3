//! Group member ids, cached for fan-out. Every membership change made
//! through the service invalidates its group.

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
