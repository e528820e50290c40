-- Petition references come from one counter row per prefix (e.g. PA-2026-), taken with
-- INSERT … ON CONFLICT DO UPDATE … RETURNING: atomic on both engines, so two workers saving a
-- petition at the same moment get different numbers (COUNT(*) + 1 gave both the same).
CREATE TABLE reference_counters (
    prefix  TEXT PRIMARY KEY,
    last    INTEGER NOT NULL
);
