UPDATE invitations SET status = 'expired' WHERE status = 'withdrawn';
ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('open', 'answered', 'expired'));
