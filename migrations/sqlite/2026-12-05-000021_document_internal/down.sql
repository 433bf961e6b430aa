ALTER TABLE documents DROP COLUMN internal_to;
