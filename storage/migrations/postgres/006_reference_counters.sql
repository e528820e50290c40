-- The twin of SQLite's 012: one counter row per petition reference prefix, taken atomically.
CREATE TABLE reference_counters (
    prefix  TEXT PRIMARY KEY,
    last    INTEGER NOT NULL
);
