-- Accounts, sessions, API tokens and sign-in failures; facility versions and status; the
-- source of every change (the change log doubles as the audit trail).
ALTER TABLE facilities ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE facilities ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE change_log ADD COLUMN source TEXT;

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    -- Comma-separated 二次医療圏 codes (coordinators) and facility ids (facility editors).
    areas TEXT NOT NULL DEFAULT '',
    facilities TEXT NOT NULL DEFAULT '',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);

-- Only the SHA-256 of a session id or token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE auth_failures (
    id BIGSERIAL PRIMARY KEY,
    subject TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX auth_failures_subject ON auth_failures (subject, at);
