-- Citizens' feedback and petitions (phản ánh, kiến nghị): one row each, followed until closed.
-- The reference (PA-2026-000123) is for people to quote; it is never an access key: a citizen
-- reaches a petition only from the account that sent it.
CREATE TABLE petitions (
    id             INTEGER PRIMARY KEY,
    ref            TEXT NOT NULL UNIQUE,
    channel        TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    commune_code   TEXT NOT NULL REFERENCES communes(code),
    hamlet_code    TEXT REFERENCES hamlets(code),
    text           TEXT NOT NULL CHECK (text <> ''),
    -- The platform's file id of an attached photo (valid on `channel` only); never the bytes.
    photo_file_id  TEXT,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'assigned', 'answered', 'closed')),
    created_at     TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    assignee_id    INTEGER REFERENCES members(id),
    answer         TEXT,
    answered_by    INTEGER REFERENCES members(id),
    answered_at    TEXT,
    closed_by      INTEGER REFERENCES members(id),
    closed_at      TEXT
);
CREATE INDEX petitions_by_commune ON petitions (commune_code, status, due_on);
CREATE INDEX petitions_by_sender ON petitions (channel, external_id, created_at);
CREATE INDEX petitions_by_assignee ON petitions (assignee_id, status);
