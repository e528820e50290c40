-- Communes and hamlets mirror config.toml; they are refreshed at every start.
CREATE TABLE communes (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    language    TEXT NOT NULL
);

CREATE TABLE hamlets (
    code               TEXT PRIMARY KEY,
    commune_code       TEXT NOT NULL REFERENCES communes(code),
    name               TEXT NOT NULL,
    households         INTEGER NOT NULL CHECK (households > 0),
    eligible_citizens  INTEGER NOT NULL CHECK (eligible_citizens > 0),
    level2_baseline    INTEGER NOT NULL DEFAULT 0,
    activated_baseline INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('volunteer', 'officer', 'province')),
    -- NULL only for province officers, who see every commune.
    commune_code  TEXT REFERENCES communes(code),
    hamlet_code   TEXT REFERENCES hamlets(code),
    language      TEXT NOT NULL,
    joined_at     TEXT NOT NULL,
    UNIQUE (channel, external_id)
);

-- Language chosen by people who have not joined (citizens), so /lang sticks for them too.
CREATE TABLE user_languages (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    language     TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

CREATE TABLE invites (
    code          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('volunteer', 'officer', 'province')),
    commune_code  TEXT REFERENCES communes(code),
    hamlet_code   TEXT REFERENCES hamlets(code),
    created_by    INTEGER REFERENCES members(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_by       INTEGER REFERENCES members(id),
    used_at       TEXT
);

CREATE TABLE invite_failures (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX invite_failures_by_user ON invite_failures (channel, external_id, at);

CREATE TABLE households (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    hamlet_code       TEXT NOT NULL REFERENCES hamlets(code),
    head_name         TEXT NOT NULL,
    head_name_folded  TEXT NOT NULL,
    members           INTEGER CHECK (members IS NULL OR members > 0),
    address           TEXT,
    source            TEXT NOT NULL CHECK (source IN ('import', 'chat', 'demo')),
    created_by        INTEGER REFERENCES members(id),
    created_at        TEXT NOT NULL
);
CREATE INDEX households_by_hamlet ON households (hamlet_code, head_name_folded);

CREATE TABLE activations (
    id                 INTEGER PRIMARY KEY,
    household_id       INTEGER NOT NULL REFERENCES households(id),
    member_id          INTEGER NOT NULL REFERENCES members(id),
    hamlet_code        TEXT NOT NULL REFERENCES hamlets(code),
    level2_registered  INTEGER NOT NULL CHECK (level2_registered >= 0),
    activated          INTEGER NOT NULL CHECK (activated >= 0),
    household_capable  INTEGER NOT NULL CHECK (household_capable IN (0, 1)),
    recorded_at        TEXT NOT NULL,
    replaces_id        INTEGER REFERENCES activations(id),
    voided_at          TEXT,
    voided_by          INTEGER REFERENCES members(id)
);
CREATE INDEX activations_by_hamlet ON activations (hamlet_code, recorded_at);
CREATE INDEX activations_by_household ON activations (household_id);
CREATE INDEX activations_by_member ON activations (member_id, recorded_at);

CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER NOT NULL REFERENCES households(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    hamlet_code   TEXT NOT NULL REFERENCES hamlets(code),
    topics        TEXT NOT NULL CHECK (topics <> ''),
    outcome       TEXT NOT NULL CHECK (outcome IN ('done', 'follow_up')),
    follow_up_on  TEXT,
    recorded_at   TEXT NOT NULL,
    replaces_id   INTEGER REFERENCES visits(id),
    voided_at     TEXT,
    voided_by     INTEGER REFERENCES members(id),
    CHECK ((outcome = 'follow_up') = (follow_up_on IS NOT NULL))
);
CREATE INDEX visits_by_hamlet ON visits (hamlet_code, recorded_at);
CREATE INDEX visits_by_member ON visits (member_id, recorded_at);
CREATE INDEX visits_follow_up ON visits (follow_up_on) WHERE outcome = 'follow_up';

-- Who changed what, when: every write a person makes leaves a row here.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    member_id   INTEGER REFERENCES members(id),
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_entity ON audit_log (entity, entity_id);

CREATE TABLE conversations (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    flow         TEXT NOT NULL,
    step         TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}',
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

CREATE TABLE processed_updates (
    channel       TEXT NOT NULL,
    update_id     TEXT NOT NULL,
    processed_at  TEXT NOT NULL,
    PRIMARY KEY (channel, update_id)
);
