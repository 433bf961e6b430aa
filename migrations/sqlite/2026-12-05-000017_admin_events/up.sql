-- The administration's own record: who created a user, changed roles, deactivated an account,
-- handed over Wiedervorlagen, registered an organisation, replaced its addresses or disposed of a
-- case, and when. Written in the same transaction as the change; never changed or deleted.
-- Cases have their journal; this is for what happens outside them.
CREATE TABLE admin_events (
    id INTEGER PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL
);
