DROP TABLE admin_chain;
DROP INDEX admin_events_seq;
ALTER TABLE admin_events DROP COLUMN hash;
ALTER TABLE admin_events DROP COLUMN prev_hash;
ALTER TABLE admin_events DROP COLUMN seq;
