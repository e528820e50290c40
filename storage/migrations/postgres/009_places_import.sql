-- The twin of SQLite's 015: communes keep their province (from the imported list of units),
-- and a commune's hamlets are read by one indexed lookup.
ALTER TABLE communes ADD COLUMN province_code TEXT;
ALTER TABLE communes ADD COLUMN province TEXT;
CREATE INDEX IF NOT EXISTS hamlets_by_commune ON hamlets (commune_code);
