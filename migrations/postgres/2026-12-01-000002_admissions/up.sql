-- Tonight's bed: the parts of a bed status beyond the status itself; facility update links
-- (only the SHA-256 of a link's token is stored) and the corrections proposed through them,
-- waiting for a coordinator's decision.
ALTER TABLE capacities ADD COLUMN waiting_days INTEGER;
ALTER TABLE capacities ADD COLUMN via TEXT;
ALTER TABLE capacities ADD COLUMN sample BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE update_links (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    facility_id TEXT NOT NULL,
    -- one_time or standing
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    used_at TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX update_links_facility ON update_links (facility_id);

CREATE TABLE proposals (
    id BIGSERIAL PRIMARY KEY,
    facility_id TEXT NOT NULL,
    link_id BIGINT,
    -- The RFC 7396 merge patch of the facility's facts, as JSON text.
    changes TEXT NOT NULL,
    note TEXT,
    base_version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    -- pending, approved or rejected
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT
);
CREATE INDEX proposals_status ON proposals (status, facility_id);
