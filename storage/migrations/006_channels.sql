-- Several channels (Telegram, Zalo Bot Platform, Zalo OA) served by one process.

-- The options last shown to someone, so a typed number or words select one on any channel.
CREATE TABLE offered_options (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    options      TEXT NOT NULL,          -- JSON list of [label, value]
    offered_at   TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

-- When each person last wrote: Zalo OA may only message someone within 7 days of that.
CREATE TABLE contacts (
    channel          TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    last_inbound_at  TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

-- The OA's tokens: the refresh token is single-use, so each new one is stored before use.
CREATE TABLE oa_tokens (
    oa_key         TEXT PRIMARY KEY,
    access_token   TEXT NOT NULL,
    refresh_token  TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- Files (charts, workbooks) served under unguessable links that expire.
CREATE TABLE downloads (
    token       TEXT PRIMARY KEY,
    filename    TEXT NOT NULL,
    mime_type   TEXT NOT NULL,
    content     BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX downloads_by_expiry ON downloads (expires_at);

-- More accounts of one member (a Zalo and a Telegram account of the same person).
CREATE TABLE member_accounts (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    member_id    INTEGER NOT NULL REFERENCES members(id),
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

CREATE TABLE link_codes (
    code        TEXT PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

-- The channel reminders and digests go to (NULL: the one the member joined on).
ALTER TABLE members ADD COLUMN preferred_channel TEXT;

-- Messages to people other than the sender (hand-offs, relayed answers, notices), written in
-- the same transaction as their cause and delivered after the commit, once.
CREATE TABLE message_outbox (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL,
    chat_id       TEXT NOT NULL,
    payload       TEXT NOT NULL,          -- JSON: text and option rows
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX message_outbox_due ON message_outbox (status, next_attempt);
