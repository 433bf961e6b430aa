ALTER TABLE outbox DROP COLUMN rendered;
ALTER TABLE outbox DROP COLUMN subject;
ALTER TABLE outbox DROP COLUMN invitation_id;
DROP TABLE answers;
DROP TABLE partner_links;
DROP TABLE invitations;
DROP TABLE organisation_contacts;
