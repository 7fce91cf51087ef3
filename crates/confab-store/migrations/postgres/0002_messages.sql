-- Conversations, messages (stored once per conversation) and each user's
-- state in each conversation.

CREATE TABLE conversations (
    conversation_id TEXT PRIMARY KEY,
    session_type    INTEGER NOT NULL,
    max_seq         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    server_msg_id   TEXT NOT NULL,
    client_msg_id   TEXT NOT NULL,
    sender_id       TEXT NOT NULL,
    sender_platform INTEGER NOT NULL,
    sender_nickname TEXT NOT NULL DEFAULT '',
    sender_face_url TEXT NOT NULL DEFAULT '',
    session_type    INTEGER NOT NULL,
    recv_id         TEXT NOT NULL,
    content_type    INTEGER NOT NULL,
    content         TEXT NOT NULL,
    send_time       BIGINT NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    at_user_ids     TEXT NOT NULL DEFAULT '[]',
    ex              TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_id, client_msg_id);

CREATE TABLE user_conversations (
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    session_type    INTEGER NOT NULL,
    peer_id         TEXT NOT NULL,
    read_seq        BIGINT NOT NULL DEFAULT 0,
    delivered_seq   BIGINT NOT NULL DEFAULT 0,
    min_seq         BIGINT NOT NULL DEFAULT 1,
    recv_msg_opt    INTEGER NOT NULL DEFAULT 0,
    is_pinned       BOOLEAN NOT NULL DEFAULT FALSE,
    is_hidden       BOOLEAN NOT NULL DEFAULT FALSE,
    ex              TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX user_conversations_by_conversation ON user_conversations (conversation_id);

-- Messages a user deleted for themselves (del_msg).
CREATE TABLE user_deleted_messages (
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);
