-- Indexes that match the digest's queries (storage/digest_figures.py), so a province digest
-- over a year of records reads indexes only. Every report query skips voided records: the
-- partial indexes hold live records alone and cover the columns each query reads.

-- Activations per hamlet (totals, and the period's window by recorded_at).
CREATE INDEX activations_live_by_hamlet ON activations
    (hamlet_code, recorded_at, level2_registered, activated) WHERE voided_at IS NULL;
-- A household's first capable record: grouped by household straight from the index.
CREATE INDEX activations_live_capable ON activations
    (household_id, recorded_at, hamlet_code) WHERE voided_at IS NULL AND household_capable = 1;
-- Visits of a period (this one and the one before), by time, with the hamlet and volunteer.
CREATE INDEX visits_live_by_time ON visits
    (recorded_at, hamlet_code, member_id) WHERE voided_at IS NULL;
-- Activations of a period by volunteer.
CREATE INDEX activations_live_by_time ON activations
    (recorded_at, hamlet_code, member_id) WHERE voided_at IS NULL;
