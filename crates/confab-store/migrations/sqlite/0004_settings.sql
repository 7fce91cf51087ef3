-- Values made once and shared by every node of a deployment (e.g. the
-- Easemob proxy's application UUID, from which its user uuids derive).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
