-- The periods of the time windows workflows bind actions to (`windows`, `within`): the KfI's
-- yearly Antragszeitraum, say. The authority publishes them anew every year, so they are data
-- an administrator enters, not part of a workflow version. Periods of one window do not overlap
-- (checked when one is entered).
CREATE TABLE time_windows (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    CHECK (opens_on <= closes_on)
);
CREATE INDEX time_windows_name ON time_windows (name, opens_on);

-- Which case's office was reminded that a period is about to end (`remind` on the window),
-- so the `reminders` job mails each office once per period and case; written with the mail.
CREATE TABLE window_reminders (
    period_id BIGINT NOT NULL REFERENCES time_windows (id) ON DELETE CASCADE,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (period_id, case_id)
);
CREATE INDEX window_reminders_case_id ON window_reminders (case_id);
