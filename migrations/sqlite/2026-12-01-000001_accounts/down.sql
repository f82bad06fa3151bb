DROP TABLE auth_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE change_log DROP COLUMN source;
ALTER TABLE facilities DROP COLUMN status;
ALTER TABLE facilities DROP COLUMN version;
