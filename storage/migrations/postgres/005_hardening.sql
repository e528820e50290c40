-- The twin of SQLite's 011: button values offered to each person (kept 30 days), so a pressed
-- button is acted on only if it was offered to that person; invite guessing limited across
-- all accounts needs the failures by time alone.
CREATE TABLE button_offers (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    value        TEXT NOT NULL,
    offered_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, external_id, value)
);
CREATE INDEX button_offers_by_age ON button_offers (offered_at);
CREATE INDEX invite_failures_by_time ON invite_failures (at);
