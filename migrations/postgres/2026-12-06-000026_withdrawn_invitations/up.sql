-- An invitation the office withdrew (sent to the wrong body) keeps its row, for the file and the
-- matrix, with the status 'withdrawn'.
ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('open', 'answered', 'expired', 'withdrawn'));
