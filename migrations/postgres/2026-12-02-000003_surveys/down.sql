DROP TABLE pharmacy_groups;
ALTER TABLE proposals DROP COLUMN via;
ALTER TABLE proposals DROP COLUMN respondent;
ALTER TABLE proposals DROP COLUMN survey_version;
ALTER TABLE proposals DROP COLUMN survey;
ALTER TABLE facilities DROP COLUMN after_hours;
