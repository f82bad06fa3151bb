ALTER TABLE facilities DROP COLUMN specialists;
