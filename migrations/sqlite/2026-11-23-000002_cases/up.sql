-- Workflow versions, cases with their engine state, the tamper-evident journal, durable timers,
-- the mail outbox and uploaded documents.

CREATE TABLE workflow_definitions (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    hash TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (key, version),
    UNIQUE (key, hash)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    aktenzeichen TEXT NOT NULL UNIQUE,
    definition_id INTEGER NOT NULL REFERENCES workflow_definitions (id),
    workflow_key TEXT NOT NULL,
    applicant_id INTEGER NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL CHECK (status IN ('new', 'running', 'completed', 'withdrawn')),
    outcome TEXT,
    state TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    submitted_at TIMESTAMP,
    current_steps TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX cases_applicant_id ON cases (applicant_id);
CREATE INDEX cases_workflow_status ON cases (workflow_key, status);

CREATE TABLE aktenzeichen_counters (
    prefix TEXT NOT NULL,
    applicant_key TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_number INTEGER NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (prefix, applicant_key, year)
);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL CHECK (seq > 0),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (case_id, seq)
);

CREATE TABLE timers (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    local_id BIGINT NOT NULL,
    step TEXT NOT NULL,
    due DATE NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'fired', 'cancelled')),
    lease_owner TEXT,
    lease_until TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (case_id, local_id)
);
CREATE INDEX timers_status_due ON timers (status, due);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    case_id INTEGER REFERENCES cases (id),
    template TEXT NOT NULL,
    recipients TEXT NOT NULL,
    context TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size BIGINT NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    filename TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    partner_visible BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX documents_case_id ON documents (case_id);
