ALTER TABLE invitations DROP COLUMN received_on;
ALTER TABLE answers DROP COLUMN received_on;
