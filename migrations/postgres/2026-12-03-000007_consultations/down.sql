ALTER TABLE facilities DROP COLUMN gathering;
ALTER TABLE facilities DROP COLUMN consultations;
