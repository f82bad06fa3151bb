-- Corrections reported by the public through a record's 「情報の修正を依頼」 form: what is
-- wrong and, only if typed, how to reach the reporter; no address or other trace is stored.
CREATE TABLE corrections (
    id BIGSERIAL PRIMARY KEY,
    facility_id TEXT NOT NULL,
    what TEXT NOT NULL,
    contact TEXT,
    created_at TEXT NOT NULL,
    -- open or closed
    status TEXT NOT NULL DEFAULT 'open',
    closed_by TEXT,
    closed_at TEXT,
    note TEXT
);
CREATE INDEX corrections_status ON corrections (status, facility_id);
