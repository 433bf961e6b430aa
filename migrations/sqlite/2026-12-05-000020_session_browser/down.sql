ALTER TABLE ui_sessions DROP COLUMN browser;
