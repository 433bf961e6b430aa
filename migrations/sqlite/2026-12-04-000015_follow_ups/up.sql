-- Wiedervorlagen: a staff member asks to see a case again on a given day, and says why. They
-- are personal (the start page of whoever set one lists it when it is due) and shown on the
-- case to everyone who may read it; done, they stay with who closed them and when. On the day
-- (or the next working day) the `reminders` job mails them once to whoever set them.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due DATE NOT NULL,
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP,
    done_by TEXT,
    notified_at TIMESTAMP,
    CHECK ((done_at IS NULL) = (done_by IS NULL))
);
CREATE INDEX follow_ups_open_by_user ON follow_ups (user_id, due) WHERE done_at IS NULL;
CREATE INDEX follow_ups_case_id ON follow_ups (case_id);
CREATE INDEX follow_ups_to_notify ON follow_ups (due) WHERE done_at IS NULL AND notified_at IS NULL;
