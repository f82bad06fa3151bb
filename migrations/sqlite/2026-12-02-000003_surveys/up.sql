-- Surveys and pharmacy groups: whether a facility can be reached after hours (a survey's
-- answer, JSON); survey answer sets kept with the proposals (the answers in `changes`, the
-- survey and its version, the respondent, how they came); and the groups of pharmacies holding
-- a joint 麻薬小売業者間譲渡許可.
ALTER TABLE facilities ADD COLUMN after_hours TEXT;
ALTER TABLE proposals ADD COLUMN survey TEXT;
ALTER TABLE proposals ADD COLUMN survey_version INTEGER;
ALTER TABLE proposals ADD COLUMN respondent TEXT;
-- update_link, coordinator or sample
ALTER TABLE proposals ADD COLUMN via TEXT NOT NULL DEFAULT 'update_link';

CREATE TABLE pharmacy_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- facility ids, as a JSON array
    members TEXT NOT NULL,
    licence_valid_until TEXT NOT NULL,
    transfer_hours INTEGER,
    note TEXT,
    sample BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
