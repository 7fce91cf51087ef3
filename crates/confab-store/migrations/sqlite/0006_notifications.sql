-- The yunbay API's user tokens (`X-Yf-Token`; only their hashes are kept).
-- A user may hold many; expired ones are deleted when the user gets another.
-- (`user_tokens` is taken: it holds the OpenIM tokens, one per platform.)
CREATE TABLE yunbay_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX yunbay_tokens_by_user ON yunbay_tokens (user_id);

-- Deployment-wide sequences (e.g. `notification`: system notification ids),
-- bumped in place so that no value is given twice, on any node.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Notifications each user must still ack, with the body to send again on
-- each of their connections until they do.
CREATE TABLE awaited_acks (
    user_id         TEXT NOT NULL,
    notification_id BIGINT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX awaited_acks_by_notification ON awaited_acks (notification_id);

-- Users' acks of broadcasts (notifications stored once for everyone); a
-- user's old ones are deleted when they ack another.
CREATE TABLE broadcast_acks (
    user_id         TEXT NOT NULL,
    notification_id BIGINT NOT NULL,
    acked_at        BIGINT NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);

-- Broadcast messages by send time: a notification client connecting gets
-- the broadcasts of the last so many seconds, found by `first_seq_since`
-- without walking the whole broadcast history. Queries must repeat the
-- condition exactly, and take `MIN(seq + 0)`: a plain `MIN(seq)` has both
-- planners walk the primary key instead.
CREATE INDEX messages_broadcast_by_time ON messages (conversation_id, send_time)
    WHERE substr(conversation_id, 1, 2) = 'b_';

-- Broadcasts that ask each user's ack, with the body to send again: a
-- connecting user is sent those they have not acked without reading the
-- broadcast history. Deleted once older than the broadcast lifetime.
CREATE TABLE ack_broadcasts (
    notification_id BIGINT PRIMARY KEY,
    body            TEXT NOT NULL,
    sent_at         BIGINT NOT NULL
);
CREATE INDEX ack_broadcasts_by_time ON ack_broadcasts (sent_at);
