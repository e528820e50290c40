-- Limits every worker shares, kept in the database rather than in each process's memory:
-- the next free moment to send to a chat (epoch seconds; Telegram allows one message a second
-- per chat, 20 a minute per group), and each person's messages in the current minute (the help
-- desk slows floods down). One row per chat or person, updated by one atomic upsert.
CREATE TABLE send_pacing (
    channel  TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    free_at  REAL NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX send_pacing_by_time ON send_pacing (free_at);
CREATE TABLE message_counts (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    minute       INTEGER NOT NULL,
    messages     INTEGER NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX message_counts_by_minute ON message_counts (minute);
