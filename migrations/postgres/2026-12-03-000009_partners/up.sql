-- The providers a facility works with (連携先): [{id, role, note}] as JSON; professional.
ALTER TABLE facilities ADD COLUMN partners TEXT;
