-- The app access API: SMS sign-in codes, the sends that limits count,
-- phone numbers of users who signed in by SMS, and session tokens (only
-- their hashes are kept).
CREATE TABLE sms_codes (
    phone      TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sms_sends (
    phone   TEXT NOT NULL,
    ip      TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX sms_sends_by_phone ON sms_sends (phone, sent_at);
CREATE INDEX sms_sends_by_ip ON sms_sends (ip, sent_at);

CREATE TABLE phone_users (
    phone   TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);

CREATE TABLE app_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    device     TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, device, device_id)
);
