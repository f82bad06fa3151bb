ALTER TABLE facilities DROP COLUMN partners;
