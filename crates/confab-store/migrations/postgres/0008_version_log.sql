-- The version logs of OpenIM v3's incremental sync: per (owner, domain) a
-- head naming the log (`version_id`, random, so that a client holding the
-- id of a log that was started over takes everything again) and counting
-- its changes, and per entity the version of its last change, the version
-- it was (re)created at and whether it is deleted. The owner is a user id
-- (domains `friends`, `groups`, `conversations`) or a group id (`members`).
CREATE TABLE version_heads (
    owner_id   TEXT NOT NULL,
    domain     TEXT NOT NULL,
    version_id TEXT NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, domain)
);

-- `created_version` 0: the entity was not created while the log was kept
-- (it predates it), so a change to it is an update.
CREATE TABLE version_entities (
    owner_id        TEXT NOT NULL,
    domain          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_version BIGINT NOT NULL,
    deleted         BOOLEAN NOT NULL,
    PRIMARY KEY (owner_id, domain, entity_id)
);

-- What changed after a version, without reading the whole log.
CREATE INDEX version_entities_by_version ON version_entities (owner_id, domain, version);
