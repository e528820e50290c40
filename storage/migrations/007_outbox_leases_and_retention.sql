-- The outbox addressed by (channel, chat id), with per-message progress and a lease:
-- * next_part: how many of the row's messages are settled (sent, or in doubt);
-- * status 'sending': message `next_part` was handed to the channel and no answer is recorded
--   yet; a row found like this after a crash has that message in doubt ('unknown'), and it is
--   not sent again (see bot/reports/outbox.py for what "once" means);
-- * lease_owner/lease_until: the one process delivering the row; others skip it until the
--   lease runs out, so two bot processes on one database never both send a row.
CREATE TABLE outbox_v2 (
    id             INTEGER PRIMARY KEY,
    report         TEXT NOT NULL,
    period         TEXT NOT NULL,
    channel        TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    member_id      INTEGER REFERENCES members(id),
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sending', 'sent', 'unknown', 'failed')),
    next_part      INTEGER NOT NULL DEFAULT 0,
    unknown_parts  TEXT NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   TEXT NOT NULL,
    lease_owner    TEXT,
    lease_until    TEXT,
    last_error     TEXT,
    created_at     TEXT NOT NULL,
    sent_at        TEXT,
    UNIQUE (report, period, channel, chat_id)
);

-- A row left 'sending' by the previous version: which of its messages went out is not known.
INSERT INTO outbox_v2 (id, report, period, channel, chat_id, member_id, status, unknown_parts,
                       attempts, next_attempt, last_error, created_at, sent_at)
SELECT o.id, o.report, o.period, m.channel, m.external_id, o.member_id,
       CASE o.status WHEN 'sending' THEN 'unknown' ELSE o.status END,
       CASE o.status WHEN 'sending' THEN '*' ELSE '' END,
       o.attempts, o.next_attempt, o.last_error, o.created_at, o.sent_at
FROM outbox o JOIN members m ON m.id = o.member_id;

DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt);

-- `WHERE code = ? COLLATE NOCASE` cannot use the UNIQUE index (binary collation): without
-- this one every lookup by code scanned the households table.
CREATE INDEX households_code_nocase ON households (code COLLATE NOCASE);

-- Retention (bot/maintenance.py) deletes by age.
CREATE INDEX processed_updates_by_time ON processed_updates (processed_at);
CREATE INDEX conversations_by_time ON conversations (updated_at);
