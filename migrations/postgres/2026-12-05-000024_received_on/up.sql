-- The day a Stellungnahme that came by letter, e-mail or phone reached the office, when the
-- office entered it later. Whether it was in time is decided by that day, so it is kept with the
-- answer's version and, for the consultation matrix, with the invitation's latest answer. NULL
-- for answers given through the partner's link.
ALTER TABLE answers ADD COLUMN received_on DATE;
ALTER TABLE invitations ADD COLUMN received_on DATE;
