-- Training and meetings (研修・会議): the filterable facts in columns, the whole event as JSON;
-- calendar feed tokens (only their hash is kept) standing for an account in a subscription.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    organizer_facility_id TEXT,
    -- Comma-separated 二次医療圏 codes.
    areas TEXT NOT NULL,
    start_date TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX events_start ON events (start_date);

CREATE TABLE calendar_feeds (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT,
    area TEXT,
    audience TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
