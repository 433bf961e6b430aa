-- SQLite changes a CHECK only by rebuilding the table. The rows are copied aside, the table is
-- created anew with the same columns in the same order, and the rows come back with their ids.
-- partner_links, answers and extension_requests refer to invitations: their foreign keys are
-- checked at COMMIT (defer_foreign_keys), when every row they point to is back; a row lost on
-- the way would fail the migration instead of leaving a dangling reference.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE invitations_copy AS SELECT * FROM invitations;
UPDATE invitations_copy SET status = 'expired' WHERE status = 'withdrawn';
DROP TABLE invitations;
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    local_id BIGINT NOT NULL,
    step TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    deadline DATE NOT NULL,
    deadline_reason TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'expired')),
    invited_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    votum TEXT,
    late BOOLEAN NOT NULL DEFAULT FALSE,
    versions INTEGER NOT NULL DEFAULT 0,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    closed_at TIMESTAMP,
    received_on DATE,
    UNIQUE (case_id, local_id)
);
CREATE INDEX invitations_organisation_id ON invitations (organisation_id);
INSERT INTO invitations (id, case_id, local_id, step, organisation_id, deadline, deadline_reason,
    status, invited_at, answered_at, votum, late, versions, reminders_sent, closed_at, received_on)
SELECT id, case_id, local_id, step, organisation_id, deadline, deadline_reason, status,
    invited_at, answered_at, votum, late, versions, reminders_sent, closed_at, received_on
FROM invitations_copy;
DROP TABLE invitations_copy;
