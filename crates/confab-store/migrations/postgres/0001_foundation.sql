-- Users, relations (directed edges), requests, groups, members, tokens.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    numeric_id    BIGINT NOT NULL UNIQUE,
    nickname      TEXT NOT NULL DEFAULT '',
    face_url      TEXT NOT NULL DEFAULT '',
    gender        INTEGER NOT NULL DEFAULT 0,
    phone_number  TEXT NOT NULL DEFAULT '',
    birth         TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    ex            TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE user_tokens (
    user_id     TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    token_id    TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, platform_id)
);

CREATE TABLE friends (
    owner_user_id  TEXT NOT NULL,
    friend_user_id TEXT NOT NULL,
    remark         TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    ex             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (owner_user_id, friend_user_id)
);
CREATE INDEX friends_by_friend ON friends (friend_user_id);

CREATE TABLE blacks (
    owner_user_id TEXT NOT NULL,
    block_user_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    ex            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (owner_user_id, block_user_id)
);
CREATE INDEX blacks_by_block ON blacks (block_user_id);

CREATE TABLE friend_requests (
    from_user_id  TEXT NOT NULL,
    to_user_id    TEXT NOT NULL,
    req_msg       TEXT NOT NULL DEFAULT '',
    handle_result INTEGER NOT NULL DEFAULT 0,
    handle_msg    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    handled_at    BIGINT NOT NULL DEFAULT 0,
    ex            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (from_user_id, to_user_id)
);
CREATE INDEX friend_requests_by_to ON friend_requests (to_user_id);

CREATE TABLE im_groups (
    group_id        TEXT PRIMARY KEY,
    group_name      TEXT NOT NULL DEFAULT '',
    notification    TEXT NOT NULL DEFAULT '',
    introduction    TEXT NOT NULL DEFAULT '',
    face_url        TEXT NOT NULL DEFAULT '',
    ex              TEXT NOT NULL DEFAULT '',
    group_type      INTEGER NOT NULL DEFAULT 0,
    status          INTEGER NOT NULL DEFAULT 0,
    creator_user_id TEXT NOT NULL,
    owner_user_id   TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id         TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    nickname         TEXT NOT NULL DEFAULT '',
    face_url         TEXT NOT NULL DEFAULT '',
    role_level       INTEGER NOT NULL,
    join_time        BIGINT NOT NULL,
    join_source      INTEGER NOT NULL DEFAULT 0,
    inviter_user_id  TEXT NOT NULL DEFAULT '',
    operator_user_id TEXT NOT NULL DEFAULT '',
    mute_end_time    BIGINT NOT NULL DEFAULT 0,
    ex               TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE group_requests (
    group_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    req_msg         TEXT NOT NULL DEFAULT '',
    handle_result   INTEGER NOT NULL DEFAULT 0,
    handle_msg      TEXT NOT NULL DEFAULT '',
    handled_user_id TEXT NOT NULL DEFAULT '',
    req_time        BIGINT NOT NULL,
    handled_time    BIGINT NOT NULL DEFAULT 0,
    join_source     INTEGER NOT NULL DEFAULT 0,
    inviter_user_id TEXT NOT NULL DEFAULT '',
    ex              TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_requests_by_user ON group_requests (user_id);
