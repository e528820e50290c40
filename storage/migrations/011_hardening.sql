-- Button values the bot offered to each person: a pressed button is acted on only if its
-- value was offered to that person, so forged button data (another hamlet's question id,
-- another citizen's rating) is refused in one place. Kept for 30 days.
CREATE TABLE button_offers (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    value        TEXT NOT NULL,
    offered_at   TEXT NOT NULL,
    PRIMARY KEY (channel, external_id, value)
);
CREATE INDEX button_offers_by_age ON button_offers (offered_at);

-- Invite guessing is limited across all accounts too, so the window query needs the time alone.
CREATE INDEX invite_failures_by_time ON invite_failures (at);
