ALTER TABLE cases DROP COLUMN stand_rank;
