-- Aussonderung: a case whose retention period has ended is offered to the archive and then
-- deleted with everything that belongs to it (journal, documents, consultations, mails). What
-- stays is this record: which file existed, what the archive decided, who deleted it and when,
-- and the head of its journal, so a published journal head (`vorgang audit heads`) can still be
-- accounted for. Its id is the case's former id, which is never given to another case.
CREATE TABLE disposed_cases (
    id BIGINT PRIMARY KEY,
    aktenzeichen TEXT NOT NULL UNIQUE,
    workflow_key TEXT NOT NULL,
    applicant_id BIGINT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NOT NULL,
    retention_until DATE NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('archived', 'declined')),
    reference TEXT NOT NULL,
    journal_seq INTEGER NOT NULL,
    journal_head TEXT NOT NULL,
    documents INTEGER NOT NULL,
    disposed_by TEXT NOT NULL,
    disposed_at TIMESTAMP NOT NULL
);
