-- A partner's pending notice that it is not the competent body („nicht zuständig“), made
-- through its personal link: why, which body it names as competent instead (optional), who
-- wrote it and when. One per invitation (a second notice replaces the first). The office
-- decides: withdrawing the invitation answers the notice and removes the row. Every notice is
-- also journaled (`not_responsible_reported`), so the file keeps each one; this table only says
-- what is pending, for the matrix and the start page.
CREATE TABLE responsibility_notices (
    invitation_id BIGINT PRIMARY KEY REFERENCES invitations (id),
    reason TEXT NOT NULL,
    competent TEXT,
    reported_by TEXT NOT NULL,
    reported_at TIMESTAMP NOT NULL
);
