-- The message log in append order. Messages were clustered by
-- (conversation, seq), with a unique index on (sender, client msg id): with
-- many conversations interleaved, every message of a batch dirtied one page
-- of fat rows in the clustered table and one random page of that index, and
-- each dirty page is written whole to the WAL. Now rows go to the end of a
-- rowid table (a batch fills a few new pages) and only the compact
-- (conversation, seq) index takes one page per conversation per batch. A
-- resend is found through the store's in-memory index of recent sends,
-- rebuilt from the end of this log on start, instead of a unique index.
CREATE TABLE message_log (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
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
    send_time       INTEGER NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    at_user_ids     TEXT NOT NULL DEFAULT '[]',
    ex              TEXT NOT NULL DEFAULT ''
);

-- Existing messages keep their order of arrival as well as it is known:
-- by send time, then within a conversation by seq.
INSERT INTO message_log (conversation_id, seq, server_msg_id, client_msg_id, sender_id,
    sender_platform, sender_nickname, sender_face_url, session_type, recv_id,
    content_type, content, send_time, status, at_user_ids, ex)
SELECT conversation_id, seq, server_msg_id, client_msg_id, sender_id,
    sender_platform, sender_nickname, sender_face_url, session_type, recv_id,
    content_type, content, send_time, status, at_user_ids, ex
FROM messages ORDER BY send_time, conversation_id, seq;

DROP TABLE messages;
ALTER TABLE message_log RENAME TO messages;

CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq);
-- As in 0006.
CREATE INDEX messages_broadcast_by_time ON messages (conversation_id, send_time)
    WHERE substr(conversation_id, 1, 2) = 'b_';
