-- The twin of SQLite's 008 (same statements).
-- The digest's indexes of migration 005, made to cover every column their queries read, so the
-- planner picks them with or without ANALYZE statistics (storage/digest_figures.py), and one
-- more for households waiting for a promised return visit. Live records only, as before.
DROP INDEX activations_live_by_hamlet;
DROP INDEX activations_live_capable;
DROP INDEX visits_live_by_time;
DROP INDEX activations_live_by_time;

-- Activations per hamlet: totals up to the cut-off, the period's window, who logged them.
CREATE INDEX activations_live_by_hamlet ON activations
    (hamlet_code, recorded_at, level2_registered, activated, member_id)
    WHERE voided_at IS NULL;
-- A household's first capable record, households of a hamlet side by side.
CREATE INDEX activations_live_capable ON activations
    (hamlet_code, household_id, recorded_at)
    WHERE voided_at IS NULL AND household_capable = 1;
-- Visits of a period (this one and the one before) per hamlet, with who made them.
CREATE INDEX visits_live_by_hamlet ON visits
    (hamlet_code, recorded_at, member_id)
    WHERE voided_at IS NULL;
-- Households waiting for a promised return visit, per hamlet and due date.
CREATE INDEX visits_waiting ON visits
    (hamlet_code, follow_up_on, recorded_at, household_id)
    WHERE outcome = 'follow_up' AND voided_at IS NULL;
