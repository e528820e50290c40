-- Household codes are typed in any case and looked up as UPPER(code) on both engines
-- (COLLATE NOCASE is SQLite's alone): this index serves that lookup and replaces the NOCASE one.
DROP INDEX households_code_nocase;
CREATE INDEX households_by_upper_code ON households (UPPER(code));
