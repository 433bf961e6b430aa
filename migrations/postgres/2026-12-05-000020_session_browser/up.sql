-- Which browser started a web session, as a few words ("Firefox unter Windows", never the whole
-- User-Agent header), so that the account page can tell the user's logins apart. No address is
-- stored: the list must not become a record of where staff work from. It goes with the session
-- (at most its absolute lifetime); sessions from before have none.
ALTER TABLE ui_sessions ADD COLUMN browser TEXT;
