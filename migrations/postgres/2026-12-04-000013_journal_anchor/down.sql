ALTER TABLE cases DROP COLUMN journal_seq;
