-- An officer's announcement to the commune's citizens, its volunteers, or one hamlet.
CREATE TABLE announcements (
    id             INTEGER PRIMARY KEY,
    commune_code   TEXT NOT NULL REFERENCES communes(code),
    audience       TEXT NOT NULL CHECK (audience IN ('citizens', 'volunteers', 'hamlet')),
    hamlet_code    TEXT REFERENCES hamlets(code),
    text           TEXT NOT NULL,
    -- A picture by the platform's file id (valid on `photo_channel` only), never the bytes.
    photo_file_id  TEXT,
    photo_channel  TEXT,
    created_by     INTEGER NOT NULL REFERENCES members(id),
    created_at     TEXT NOT NULL,
    recipients     INTEGER NOT NULL,
    -- Set when the officer has been told how many were reached.
    reported_at    TEXT,
    CHECK ((audience = 'hamlet') = (hamlet_code IS NOT NULL))
);

-- What a queued message belongs to ('announcement:12'), so its outcome can be counted, and
-- why it was not delivered ('blocked', 'outside_window', …), as the sender reported it.
ALTER TABLE message_outbox ADD COLUMN topic TEXT;
ALTER TABLE message_outbox ADD COLUMN reason TEXT;
CREATE INDEX message_outbox_by_topic ON message_outbox (topic) WHERE topic IS NOT NULL;
