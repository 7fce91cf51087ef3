//! The version logs of the incremental sync: a head per (owner, domain) and
//! one row per entity (`confab_core::versions`).

use confab_core::versions::{ChangeKind, VersionChange};
use std::collections::BTreeMap;

/// An (owner, domain name) pair.
pub(crate) type LogKey<'a> = (&'a str, &'static str);

/// The changes of a batch, one per entity, grouped by log: `BTreeMap`s, so
/// that every transaction bumps heads in the same order (two batches
/// touching the same logs then wait for each other instead of deadlocking
/// on PostgreSQL).
pub(crate) fn by_log(
    changes: &[VersionChange],
) -> BTreeMap<LogKey<'_>, BTreeMap<&str, ChangeKind>> {
    let mut logs: BTreeMap<LogKey<'_>, BTreeMap<&str, ChangeKind>> = BTreeMap::new();
    for c in changes {
        let entities = logs
            .entry((c.owner.as_str(), c.domain.as_str()))
            .or_default();
        let kind = match (entities.get(c.entity.as_str()), c.kind) {
            // Still new to whoever did not see the insert.
            (Some(ChangeKind::Insert), ChangeKind::Update) => ChangeKind::Insert,
            (_, kind) => kind,
        };
        entities.insert(c.entity.as_str(), kind);
    }
    logs
}

/// A fresh log id.
pub(crate) fn new_version_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `VersionStore` for `$store`.
macro_rules! impl_versions {
    ($store:ident) => {
        mod versions {
            use super::$store;
            use $crate::common::versions::{by_log, new_version_id, LogKey};
            use $crate::common::{db_err, shaped_chunks};
            use confab_core::store::VersionStore;
            use confab_core::versions::{ChangeKind, VersionChange, VersionDelta, VersionDomain};
            use confab_core::{Error, Result};
            use std::collections::BTreeMap;

            type Db = <$store as $crate::common::Backend>::Db;

            /// An entity row to write: owner, domain, entity, version, and
            /// whether it is deleted.
            type Stamp<'a> = (&'a str, &'static str, &'a str, i64, bool);

            impl $store {
                /// Bumps the heads of `logs` by one (creating those that
                /// are missing at 1); their new versions.
                async fn bump_heads<'a>(
                    tx: &mut sqlx::Transaction<'_, Db>,
                    logs: &[LogKey<'a>],
                ) -> Result<BTreeMap<(String, String), i64>> {
                    let mut versions = BTreeMap::new();
                    for chunk in shaped_chunks(logs) {
                        let values = (0..chunk.len())
                            .map(|i| {
                                let row: Vec<String> = (1..=3).map(|k| Self::param(3 * i + k)).collect();
                                format!("({}, 1)", row.join(", "))
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sql = format!(
                            "INSERT INTO version_heads (owner_id, domain, version_id, version) VALUES {values} \
                             ON CONFLICT (owner_id, domain) DO UPDATE SET version = version_heads.version + 1 \
                             RETURNING owner_id, domain, version"
                        );
                        let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
                        for (owner, domain) in chunk {
                            q = q.bind(*owner).bind(*domain).bind(new_version_id());
                        }
                        for (owner, domain, version) in q.fetch_all(&mut **tx).await.map_err(db_err)? {
                            versions.insert((owner, domain), version);
                        }
                    }
                    Ok(versions)
                }

                /// Writes entity rows. `created` rows were (re)created at
                /// their version; the others keep the version they were
                /// created at (0 for an entity new to the log: it predates
                /// the log, so it is no insert).
                async fn stamp_entities(
                    tx: &mut sqlx::Transaction<'_, Db>,
                    stamps: &[Stamp<'_>],
                    created: bool,
                ) -> Result<()> {
                    let keep_or_set = if created {
                        ", created_version = excluded.created_version"
                    } else {
                        ""
                    };
                    for chunk in shaped_chunks(stamps) {
                        let values = (0..chunk.len())
                            .map(|i| {
                                let row: Vec<String> = (1..=6).map(|k| Self::param(6 * i + k)).collect();
                                format!("({})", row.join(", "))
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sql = format!(
                            "INSERT INTO version_entities \
                             (owner_id, domain, entity_id, version, created_version, deleted) VALUES {values} \
                             ON CONFLICT (owner_id, domain, entity_id) DO UPDATE SET \
                             version = excluded.version, deleted = excluded.deleted{keep_or_set}"
                        );
                        let mut q = sqlx::query(&sql);
                        for (owner, domain, entity, version, deleted) in chunk {
                            let created_version = if created { *version } else { 0 };
                            q = q
                                .bind(*owner)
                                .bind(*domain)
                                .bind(*entity)
                                .bind(*version)
                                .bind(created_version)
                                .bind(*deleted);
                        }
                        q.execute(&mut **tx).await.map_err(db_err)?;
                    }
                    Ok(())
                }

                /// The head of a log, created (version 0) when it has none:
                /// a client must get an id on its first read, or it could
                /// never ask for a difference.
                async fn version_head(&self, owner: &str, domain: &str) -> Result<(String, i64)> {
                    const SELECT: &str =
                        "SELECT version_id, version FROM version_heads WHERE owner_id = $1 AND domain = $2";
                    let found: Option<(String, i64)> = sqlx::query_as(SELECT)
                        .bind(owner)
                        .bind(domain)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err)?;
                    if let Some(head) = found {
                        return Ok(head);
                    }
                    sqlx::query(
                        "INSERT INTO version_heads (owner_id, domain, version_id, version) VALUES ($1, $2, $3, 0) \
                         ON CONFLICT (owner_id, domain) DO NOTHING",
                    )
                    .bind(owner)
                    .bind(domain)
                    .bind(new_version_id())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                    // From the writer: another writer may have won the
                    // insert, and a reader might not see it yet.
                    let head: Option<(String, i64)> = sqlx::query_as(SELECT)
                        .bind(owner)
                        .bind(domain)
                        .fetch_optional(self.writer())
                        .await
                        .map_err(db_err)?;
                    head.ok_or_else(|| Error::internal(format!("no version head for {owner}/{domain}")))
                }
            }

            #[async_trait::async_trait]
            impl VersionStore for $store {
                async fn record_changes(&self, changes: &[VersionChange]) -> Result<()> {
                    if changes.is_empty() {
                        return Ok(());
                    }
                    let logs = by_log(changes);
                    let keys: Vec<LogKey<'_>> = logs.keys().copied().collect();
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let versions = Self::bump_heads(&mut tx, &keys).await?;
                    let (mut created, mut changed) = (Vec::new(), Vec::new());
                    for ((owner, domain), entities) in &logs {
                        let version = *versions
                            .get(&((*owner).to_owned(), (*domain).to_owned()))
                            .ok_or_else(|| Error::internal(format!("version head {owner}/{domain} not bumped")))?;
                        for (entity, kind) in entities {
                            let stamp = (*owner, *domain, *entity, version, *kind == ChangeKind::Delete);
                            if *kind == ChangeKind::Insert {
                                created.push(stamp);
                            } else {
                                changed.push(stamp);
                            }
                        }
                    }
                    Self::stamp_entities(&mut tx, &created, true).await?;
                    Self::stamp_entities(&mut tx, &changed, false).await?;
                    tx.commit().await.map_err(db_err)
                }

                async fn changes_since(
                    &self,
                    owner: &str,
                    domain: VersionDomain,
                    version_id: &str,
                    version: i64,
                ) -> Result<VersionDelta> {
                    let (head_id, head_version) = self.version_head(owner, domain.as_str()).await?;
                    let mut delta = VersionDelta {
                        version_id: head_id,
                        version: head_version,
                        ..Default::default()
                    };
                    if version_id.is_empty() || version_id != delta.version_id || !(0..=head_version).contains(&version) {
                        delta.full = true;
                        return Ok(delta);
                    }
                    if version == head_version {
                        return Ok(delta);
                    }
                    // Up to the head read above: what committed since is
                    // told next time, with the version that covers it.
                    let rows: Vec<(String, i64, bool)> = sqlx::query_as(
                        "SELECT entity_id, created_version, deleted FROM version_entities \
                         WHERE owner_id = $1 AND domain = $2 AND version > $3 AND version <= $4 \
                         ORDER BY version, entity_id",
                    )
                    .bind(owner)
                    .bind(domain.as_str())
                    .bind(version)
                    .bind(head_version)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                    for (entity, created_version, deleted) in rows {
                        if deleted {
                            delta.deleted.push(entity);
                        } else if created_version > version {
                            delta.inserted.push(entity);
                        } else {
                            delta.updated.push(entity);
                        }
                    }
                    Ok(delta)
                }
            }
        }
    };
}

pub(crate) use impl_versions;

#[cfg(test)]
mod tests {
    use super::by_log;
    use confab_core::versions::{ChangeKind::*, VersionChange, VersionDomain::*};

    #[test]
    fn one_change_per_entity_and_inserts_stay_inserts() {
        let changes = [
            VersionChange::new("a", Friends, "b", Insert),
            VersionChange::new("a", Friends, "b", Update),
            VersionChange::new("a", Friends, "c", Update),
            VersionChange::new("a", Friends, "c", Delete),
            VersionChange::new("g", Members, "a", Delete),
            VersionChange::new("g", Members, "a", Insert),
            VersionChange::new("a", Groups, "g", Insert),
        ];
        let logs = by_log(&changes);
        let flat: Vec<_> = logs
            .iter()
            .flat_map(|(log, entities)| entities.iter().map(move |(e, k)| (*log, *e, *k)))
            .collect();
        assert_eq!(
            flat,
            [
                (("a", "friends"), "b", Insert),
                (("a", "friends"), "c", Delete),
                (("a", "groups"), "g", Insert),
                (("g", "members"), "a", Insert),
            ]
        );
    }
}
