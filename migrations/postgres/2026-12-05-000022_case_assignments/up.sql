-- Zuständigkeit: who in an organisation works on a case (the Sachbearbeiterin at the Kreis, the
-- one at the Bewilligungsbehörde), one per case and organisation, with who arranged it and when.
-- Like the Wiedervorlagen it is a working arrangement of that organisation, not part of the
-- file: it changes neither the case nor its journal, and only the organisation itself sees it.
CREATE TABLE case_assignments (
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at TIMESTAMP NOT NULL,
    assigned_by TEXT NOT NULL,
    PRIMARY KEY (case_id, organisation_id)
);
CREATE INDEX case_assignments_user_id ON case_assignments (user_id);
