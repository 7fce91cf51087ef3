//! The contract suite, continued: the version logs of the incremental sync.
//! Every case runs against both backends.

// Test helpers fail loudly: a panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use confab_core::store::Store;
use confab_core::versions::{ChangeKind, VersionChange, VersionDelta, VersionDomain};
use ChangeKind::*;
use VersionDomain::*;

fn change(owner: &str, domain: VersionDomain, entity: &str, kind: ChangeKind) -> VersionChange {
    VersionChange::new(owner, domain, entity, kind)
}

/// The lists of a delta, for comparing.
fn lists(d: &VersionDelta) -> (Vec<&str>, Vec<&str>, Vec<&str>) {
    (sorted(&d.inserted), sorted(&d.updated), sorted(&d.deleted))
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

const NONE: (Vec<&str>, Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new(), Vec::new());

async fn first_read_names_the_log(s: &dyn Store) {
    let first = s.changes_since("alice", Friends, "", 0).await.unwrap();
    assert!(first.full, "no id: take everything");
    assert_eq!(first.version, 0);
    assert!(!first.version_id.is_empty(), "an id from the first read on");
    assert_eq!(lists(&first), NONE, "a full answer lists nothing");

    let again = s.changes_since("alice", Friends, "", 0).await.unwrap();
    assert_eq!(again.version_id, first.version_id, "the same log");
    let current = s
        .changes_since("alice", Friends, &first.version_id, 0)
        .await
        .unwrap();
    assert!(!current.full);
    assert_eq!((current.version, lists(&current)), (0, NONE));

    let other = s.changes_since("alice", Groups, "", 0).await.unwrap();
    assert_ne!(other.version_id, first.version_id, "one log per domain");
    let bob = s.changes_since("bob", Friends, "", 0).await.unwrap();
    assert_ne!(bob.version_id, first.version_id, "one log per owner");
}

async fn changes_are_classified_since_a_version(s: &dyn Store) {
    s.record_changes(&[
        change("alice", Friends, "bob", Insert),
        change("alice", Friends, "carol", Insert),
    ])
    .await
    .unwrap();
    let all = s.changes_since("alice", Friends, "", 0).await.unwrap();
    let id = all.version_id.clone();
    assert!(!id.is_empty(), "the first change makes the head");
    assert_eq!((all.full, all.version), (true, 1), "one batch, one version");
    let since_0 = s.changes_since("alice", Friends, &id, 0).await.unwrap();
    assert_eq!(lists(&since_0), (vec!["bob", "carol"], vec![], vec![]));

    s.record_changes(&[change("alice", Friends, "bob", Update)])
        .await
        .unwrap();
    s.record_changes(&[change("alice", Friends, "carol", Delete)])
        .await
        .unwrap();
    let since_1 = s.changes_since("alice", Friends, &id, 1).await.unwrap();
    assert_eq!((since_1.full, since_1.version), (false, 3));
    assert_eq!(lists(&since_1), (vec![], vec!["bob"], vec!["carol"]));
    let since_2 = s.changes_since("alice", Friends, &id, 2).await.unwrap();
    assert_eq!(lists(&since_2), (vec![], vec![], vec!["carol"]));
    let since_0 = s.changes_since("alice", Friends, &id, 0).await.unwrap();
    assert_eq!(
        lists(&since_0),
        (vec!["bob"], vec![], vec!["carol"]),
        "bob is new to a client at 0, however often he changed since"
    );

    // Back again: new to whoever saw the deletion, and to those before.
    s.record_changes(&[change("alice", Friends, "carol", Insert)])
        .await
        .unwrap();
    let since_3 = s.changes_since("alice", Friends, &id, 3).await.unwrap();
    assert_eq!(
        (since_3.version, lists(&since_3)),
        (4, (vec!["carol"], vec![], vec![]))
    );
    let since_1 = s.changes_since("alice", Friends, &id, 1).await.unwrap();
    assert_eq!(lists(&since_1), (vec!["carol"], vec!["bob"], vec![]));
    let now = s.changes_since("alice", Friends, &id, 4).await.unwrap();
    assert_eq!((now.full, lists(&now)), (false, NONE));
}

async fn entities_older_than_the_log_are_updated_or_deleted(s: &dyn Store) {
    // Friends made before the log was kept: their first change is no insert.
    let head = s.changes_since("alice", Friends, "", 0).await.unwrap();
    s.record_changes(&[
        change("alice", Friends, "old", Update),
        change("alice", Friends, "gone", Delete),
    ])
    .await
    .unwrap();
    let d = s
        .changes_since("alice", Friends, &head.version_id, 0)
        .await
        .unwrap();
    assert_eq!(d.version_id, head.version_id, "the head read made stays");
    assert_eq!(
        (d.version, lists(&d)),
        (1, (vec![], vec!["old"], vec!["gone"]))
    );
}

async fn a_foreign_or_impossible_version_means_full(s: &dyn Store) {
    s.record_changes(&[change("g1", Members, "alice", Insert)])
        .await
        .unwrap();
    let id = s
        .changes_since("g1", Members, "", 0)
        .await
        .unwrap()
        .version_id;
    for (version_id, version) in [("not-the-id", 0), (id.as_str(), 2), (id.as_str(), -1)] {
        let d = s
            .changes_since("g1", Members, version_id, version)
            .await
            .unwrap();
        assert!(d.full, "{version_id}@{version}");
        assert_eq!((d.version_id.as_str(), d.version), (id.as_str(), 1));
        assert_eq!(lists(&d), NONE);
    }
}

async fn a_batch_bumps_each_log_once(s: &dyn Store) {
    // A group made with two members: each member's joined groups, and the
    // group's members; an insert updated in the same batch stays an insert.
    s.record_changes(&[
        change("alice", Groups, "g1", Insert),
        change("bob", Groups, "g1", Insert),
        change("g1", Members, "alice", Insert),
        change("g1", Members, "bob", Insert),
        change("g1", Members, "alice", Update),
        change("g1", Members, "", Update),
    ])
    .await
    .unwrap();
    for owner in ["alice", "bob"] {
        let d = s.changes_since(owner, Groups, "", 0).await.unwrap();
        let d = s
            .changes_since(owner, Groups, &d.version_id, 0)
            .await
            .unwrap();
        assert_eq!((d.version, lists(&d)), (1, (vec!["g1"], vec![], vec![])));
    }
    let id = s
        .changes_since("g1", Members, "", 0)
        .await
        .unwrap()
        .version_id;
    let d = s.changes_since("g1", Members, &id, 0).await.unwrap();
    assert_eq!(
        (d.version, lists(&d)),
        (1, (vec!["alice", "bob"], vec![""], vec![]))
    );
    s.record_changes(&[]).await.unwrap();
    let d = s.changes_since("g1", Members, &id, 1).await.unwrap();
    assert_eq!((d.version, lists(&d)), (1, NONE), "nothing recorded");
}

async fn a_large_batch(s: &dyn Store) {
    let members: Vec<String> = (0..1100).map(|i| format!("u{i:04}")).collect();
    let mut changes: Vec<VersionChange> = members
        .iter()
        .map(|m| change("big", Members, m, Insert))
        .collect();
    changes.extend(members.iter().map(|m| change(m, Groups, "big", Insert)));
    s.record_changes(&changes).await.unwrap();
    let id = s
        .changes_since("big", Members, "", 0)
        .await
        .unwrap()
        .version_id;
    let d = s.changes_since("big", Members, &id, 0).await.unwrap();
    assert_eq!((d.version, d.inserted.len()), (1, 1100));
    let last = s.changes_since("u1099", Groups, "", 0).await.unwrap();
    assert_eq!(last.version, 1);
}

async fn concurrent_batches_each_take_a_version(s: &dyn Store) {
    let batches = (0..16).map(|i| {
        let entity = format!("f{i}");
        async move {
            // Two logs, named in opposite orders: no deadlock.
            let mut batch = vec![
                change("alice", Friends, &entity, Insert),
                change("bob", Friends, &entity, Insert),
            ];
            if i % 2 == 1 {
                batch.reverse();
            }
            s.record_changes(&batch).await.unwrap();
        }
    });
    futures::future::join_all(batches).await;
    for owner in ["alice", "bob"] {
        let id = s.changes_since(owner, Friends, "", 0).await.unwrap();
        let d = s
            .changes_since(owner, Friends, &id.version_id, 0)
            .await
            .unwrap();
        assert_eq!((d.version, d.inserted.len()), (16, 16), "{owner}");
    }
}

contract!(
    first_read_names_the_log,
    changes_are_classified_since_a_version,
    entities_older_than_the_log_are_updated_or_deleted,
    a_foreign_or_impossible_version_means_full,
    a_batch_bumps_each_log_once,
    a_large_batch,
    concurrent_batches_each_take_a_version,
);
