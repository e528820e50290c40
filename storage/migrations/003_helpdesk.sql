-- The citizen help desk: where a citizen lives (asked once, when a person must answer),
-- questions handed to volunteers and officers, and ratings of the help given.
CREATE TABLE citizen_profiles (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    hamlet_code  TEXT NOT NULL REFERENCES hamlets(code),
    PRIMARY KEY (channel, external_id)
);

CREATE TABLE citizen_questions (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    chat_id       TEXT NOT NULL,
    commune_code  TEXT NOT NULL REFERENCES communes(code),
    hamlet_code   TEXT REFERENCES hamlets(code),
    text          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered')),
    created_at    TEXT NOT NULL,
    answered_by   INTEGER REFERENCES members(id),
    answered_at   TEXT,
    answer        TEXT
);
CREATE INDEX citizen_questions_open ON citizen_questions (commune_code, status, created_at);

CREATE TABLE ratings (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    subject       TEXT NOT NULL,          -- 'kb:<entry id>' or 'q:<question id>'
    helpful       INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    commune_code  TEXT REFERENCES communes(code),
    at            TEXT NOT NULL,
    UNIQUE (channel, external_id, subject)
);
CREATE INDEX ratings_by_commune ON ratings (commune_code, at);
