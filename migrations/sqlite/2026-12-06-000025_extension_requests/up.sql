-- A partner's pending request for a later deadline, made through its personal link: the day it
-- asks for, why, who asked and when. One per invitation (a second request replaces the first).
-- The office decides; extending the deadline answers the request and removes the row. Every
-- request is also journaled (`extension_requested`), so the file keeps each one; this table only
-- says what is pending, for the matrix.
CREATE TABLE extension_requests (
    invitation_id BIGINT PRIMARY KEY REFERENCES invitations (id),
    requested_until DATE NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL
);
