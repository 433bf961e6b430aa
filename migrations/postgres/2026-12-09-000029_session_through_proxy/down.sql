ALTER TABLE ui_sessions DROP COLUMN through_proxy;
