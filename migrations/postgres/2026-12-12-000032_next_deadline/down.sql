ALTER TABLE cases DROP COLUMN next_deadline;
