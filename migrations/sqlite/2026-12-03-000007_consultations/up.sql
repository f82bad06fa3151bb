-- Consultation windows of a facility, and a patient group's meetings (JSON).
ALTER TABLE facilities ADD COLUMN consultations TEXT;
ALTER TABLE facilities ADD COLUMN gathering TEXT;
