-- Every scheduled message goes through the outbox, one row per (report, period, recipient):
-- the key makes a second enqueue a no-op, so a restart or a catch-up never sends twice.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    report        TEXT NOT NULL,
    period        TEXT NOT NULL,
    member_id     INTEGER NOT NULL REFERENCES members(id),
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT,
    UNIQUE (report, period, member_id)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt);

-- Office-side figures officers enter per period (online dossiers, on time…): done / total.
CREATE TABLE office_figures (
    commune_code  TEXT NOT NULL REFERENCES communes(code),
    period        TEXT NOT NULL,
    indicator     TEXT NOT NULL,
    done          INTEGER NOT NULL CHECK (done >= 0),
    total         INTEGER NOT NULL CHECK (total > 0 AND done <= total),
    entered_by    INTEGER REFERENCES members(id),
    entered_at    TEXT NOT NULL,
    PRIMARY KEY (commune_code, period, indicator)
);

-- "Waiting for a follow-up" asks whether a household had a later visit.
CREATE INDEX visits_by_household ON visits (household_id, recorded_at);
