//! Who is online, and ending sessions: the service side of presence. The
//! gateway's registry is the truth of who is connected; kicks travel on the
//! bus so that they reach the node holding the session.

use crate::appender::Delivery;
use crate::auth::Caller;
use crate::Service;
use confab_core::bus::{Event, Payload, SessionId};
use confab_core::{validate, Field, Platform, Result, UserId};

/// Most users `online_status` takes at once (OpenIM's limit).
pub const MAX_ONLINE_STATUS: usize = 200;

impl Service {
    /// Fails unless the caller may see who is online: app administrators
    /// only, since presence is not for every user to watch. A dialect asks
    /// first, so that a refused caller learns nothing of its request's shape.
    pub fn authorize_online_status(&self, caller: &Caller) -> Result<()> {
        caller.require_admin()
    }

    /// For each id, the platforms it is online on (empty: offline).
    pub async fn online_status(
        &self,
        caller: &Caller,
        user_ids: &[UserId],
    ) -> Result<Vec<(UserId, Vec<Platform>)>> {
        self.authorize_online_status(caller)?;
        validate::batch(Field::Users, user_ids, MAX_ONLINE_STATUS)?;
        let platforms = self.presence.platforms_of(user_ids).await?;
        Ok(user_ids.iter().cloned().zip(platforms).collect())
    }

    /// The platforms one existing user is online on (empty: offline).
    pub async fn user_online_status(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<Vec<Platform>> {
        self.authorize_online_status(caller)?;
        self.require_user(user_id).await?;
        self.presence.platforms(user_id).await
    }

    /// Ends the sessions of a user (on one platform, or all).
    pub(crate) fn kick(&self, user_id: &UserId, platform: Option<Platform>, reason: &str) {
        self.kick_except(user_id, platform, reason, None);
    }

    /// `kick`, sparing the session `spared`.
    pub(crate) fn kick_except(
        &self,
        user_id: &UserId,
        platform: Option<Platform>,
        reason: &str,
        spared: Option<SessionId>,
    ) {
        self.appender.deliver(Delivery::Event(Event {
            recipients: vec![user_id.clone()],
            origin: None,
            payload: Payload::Kick {
                platform,
                reason: reason.to_owned(),
                except_session: spared,
            },
            filter: None,
        }));
    }
}
