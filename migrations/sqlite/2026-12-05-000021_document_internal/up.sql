-- A document internal to one organisation (the uploader's): only its members and administrators
-- see it; others, the case file they export included, do not learn it exists beyond a placeholder
-- in the journal. NULL: part of the file for everyone who reads the case. (No foreign key here:
-- SQLite cannot drop a column that has one, and the id is always the uploader's organisation.)
ALTER TABLE documents ADD COLUMN internal_to BIGINT;
