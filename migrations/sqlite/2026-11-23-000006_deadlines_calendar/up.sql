-- Timers say who fires them (`flow`: the poller at the start of the day; `reminder`: the
-- `reminders` job at office hours) and which legal deadline they are about, so deadline lists,
-- the weekly digest and calendar feeds read one indexed table instead of every case's state.
ALTER TABLE timers ADD COLUMN kind TEXT NOT NULL DEFAULT 'flow' CHECK (kind IN ('flow', 'reminder'));
ALTER TABLE timers ADD COLUMN deadline DATE;
ALTER TABLE timers ADD COLUMN deadline_reason TEXT;
DROP INDEX timers_scheduled_due;
CREATE INDEX timers_scheduled_due ON timers (kind, due, id) WHERE status = 'scheduled';
CREATE INDEX timers_scheduled_deadline ON timers (deadline, case_id) WHERE status = 'scheduled' AND deadline IS NOT NULL;

-- The head of an office (Leitung), who receives escalations when a deadline is missed.
ALTER TABLE organisations ADD COLUMN head_email TEXT CHECK (head_email IS NULL OR head_email LIKE '%_@_%');

-- Personal calendar feeds: the URL holds a random token; only its SHA-256 is stored.
CREATE TABLE calendar_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_tokens_user_id ON calendar_tokens (user_id);
