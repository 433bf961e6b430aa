-- Whether a browser session was started because a trusted reverse proxy named its user
-- (`proxy_login_header`). Such a session belongs to whoever the proxy names: when the proxy names
-- someone else in the same browser (a shared workstation), the session ends.
ALTER TABLE ui_sessions ADD COLUMN through_proxy BOOLEAN NOT NULL DEFAULT FALSE;
