-- Communes and hamlets can come from the country's list of administrative units
-- (`python -m bot places import`), thousands of them: each commune keeps its province, and a
-- commune's hamlets are read by one indexed lookup.
ALTER TABLE communes ADD COLUMN province_code TEXT;
ALTER TABLE communes ADD COLUMN province TEXT;
CREATE INDEX IF NOT EXISTS hamlets_by_commune ON hamlets (commune_code);
