-- Specialists per facility: counts per qualification, published names, source and date (JSON).
ALTER TABLE facilities ADD COLUMN specialists TEXT;
