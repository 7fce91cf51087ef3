//! The version log: what changed in a user's friends, joined groups and
//! conversations, and in a group's members, so that a client holding an
//! older copy can fetch only the difference (OpenIM v3's incremental sync).
//!
//! A log is kept per (owner, domain): a head, whose `version_id` names the
//! log (a client holding another id must start over) and whose `version`
//! counts the changes, and per entity the version of its last change, the
//! version it was (re)created at and whether it is deleted now. One record
//! per entity, not per change: the log grows with the entities ever known,
//! not with the changes.

/// What a log is about. The owner is a user for every domain but
/// `Members`, whose owner is a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionDomain {
    /// A user's friends; entities are the friends' user ids.
    Friends,
    /// The groups a user is a member of; entities are group ids.
    Groups,
    /// A user's conversation settings; entities are conversation ids.
    Conversations,
    /// A group's members; entities are user ids, and
    /// [`GROUP_INFO_ENTITY`] stands for the group's own info.
    Members,
}

/// The entity of a group's `Members` log that stands for the group itself:
/// a change of its info is recorded as an update of it (as OpenIM does), so
/// that a client syncing the members learns that the group changed too.
pub const GROUP_INFO_ENTITY: &str = "";

impl VersionDomain {
    /// The name the store keeps it under.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionDomain::Friends => "friends",
            VersionDomain::Groups => "groups",
            VersionDomain::Conversations => "conversations",
            VersionDomain::Members => "members",
        }
    }
}

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It came into being (or back, after a deletion).
    Insert,
    /// It changed.
    Update,
    /// It is gone.
    Delete,
}

/// One change to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChange {
    /// A user id, or a group id for `VersionDomain::Members`.
    pub owner: String,
    pub domain: VersionDomain,
    pub entity: String,
    pub kind: ChangeKind,
}

impl VersionChange {
    pub fn new(
        owner: impl Into<String>,
        domain: VersionDomain,
        entity: impl Into<String>,
        kind: ChangeKind,
    ) -> VersionChange {
        VersionChange {
            owner: owner.into(),
            domain,
            entity: entity.into(),
            kind,
        }
    }
}

/// Where a log stands, and what changed since the version a client holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionDelta {
    /// The log's id: never empty.
    pub version_id: String,
    /// The log's version: the number of changes recorded.
    pub version: i64,
    /// The client's copy cannot be brought up to date by a difference (it
    /// names another log, or none): it must take everything. The lists are
    /// then empty.
    pub full: bool,
    /// Entities (re)created after the client's version, and not deleted.
    pub inserted: Vec<String>,
    /// Entities changed after the client's version that it already knew.
    pub updated: Vec<String>,
    /// Entities deleted after the client's version.
    pub deleted: Vec<String>,
}
