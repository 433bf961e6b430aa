-- Limits on failed logins and on requests for a password-reset link, per account and per client
-- address, shared by every instance on this database and kept over a restart. Each row is one
-- key's GCRA state: its theoretical arrival time in milliseconds since the Unix epoch (wall
-- clock, the one time instances share). A row whose time has passed is a full allowance, the
-- same as no row, and is deleted when the next attempt is counted.
CREATE TABLE attempt_limits (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    tat_ms BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX attempt_limits_tat_ms ON attempt_limits (tat_ms);
