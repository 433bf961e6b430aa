-- Browser sessions of the staff web interface. The cookie carries a random session id; only its
-- SHA-256 (hex) is stored, so a copy of the database cannot be used to take over a session.
-- `csrf_secret` keys the HMAC behind the hidden token of every form of the session. A session
-- ends at `expires_at` (absolute lifetime) or when unused for longer than the idle timeout
-- (measured from `last_seen_at`); logging out deletes the row.
CREATE TABLE ui_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret TEXT NOT NULL CHECK (length(csrf_secret) = 64),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX ui_sessions_user_id ON ui_sessions (user_id);
CREATE INDEX ui_sessions_expires_at ON ui_sessions (expires_at);

-- Set for the administrator created on the first start (one-time password): the web interface
-- sends such a user to the password form until the password has been changed.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
