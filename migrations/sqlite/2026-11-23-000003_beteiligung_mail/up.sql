-- Beteiligung by e-mail: contact addresses of partner bodies, invitations with their personal
-- links (revocable by id) and every version of every answer; the outbox keeps the rendered mail.

CREATE TABLE organisation_contacts (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (email LIKE '%_@_%'),
    name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (organisation_id, email)
);

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
    UNIQUE (case_id, local_id)
);
CREATE INDEX invitations_organisation_id ON invitations (organisation_id);

CREATE TABLE partner_links (
    jti TEXT PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX partner_links_invitation_id ON partner_links (invitation_id);

CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations (id),
    version INTEGER NOT NULL CHECK (version > 0),
    votum TEXT NOT NULL,
    text TEXT NOT NULL,
    answered_by TEXT NOT NULL,
    document_id BIGINT REFERENCES documents (id),
    late BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (invitation_id, version)
);

-- No REFERENCES here: SQLite cannot drop a column that takes part in a foreign key.
ALTER TABLE outbox ADD COLUMN invitation_id BIGINT;
ALTER TABLE outbox ADD COLUMN subject TEXT NOT NULL DEFAULT '';
-- The rendered mail as JSON: {"from", "to": [...], "text", "html"}.
ALTER TABLE outbox ADD COLUMN rendered TEXT NOT NULL DEFAULT '{}';
