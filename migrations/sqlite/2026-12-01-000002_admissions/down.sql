DROP TABLE proposals;
DROP TABLE update_links;
ALTER TABLE capacities DROP COLUMN sample;
ALTER TABLE capacities DROP COLUMN via;
ALTER TABLE capacities DROP COLUMN waiting_days;
