-- The twin of SQLite's 016: one row holding the places' version, bumped by every import of
-- the list of units and read with each update's first trip.
CREATE TABLE places_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO places_version (id, version) VALUES (1, 0);
