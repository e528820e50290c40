-- The twin of SQLite's 013: limits every worker shares (a chat's next free moment to send,
-- each person's messages in the current minute), one row each, updated by one atomic upsert.
CREATE TABLE send_pacing (
    channel  TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    free_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX send_pacing_by_time ON send_pacing (free_at);
CREATE TABLE message_counts (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    minute       BIGINT NOT NULL,
    messages     INTEGER NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX message_counts_by_minute ON message_counts (minute);
