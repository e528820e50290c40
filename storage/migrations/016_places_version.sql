-- The places' version: one row, bumped in the transaction of every import of the list of
-- units. Each update reads it with its first trip, so a running worker reloads the places
-- when another process imported new ones (no restart, no cache that differs between workers).
CREATE TABLE places_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO places_version (id, version) VALUES (1, 0);
