-- A staff member's absence (leave, illness, a course) with the colleague standing in: until the
-- last day of the absence, the Wiedervorlagen that come due for the absent user are also mailed
-- to the deputy and listed on the deputy's start page. One per user; the user sets and ends it.
CREATE TABLE absences (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    until DATE NOT NULL,
    deputy_id BIGINT NOT NULL REFERENCES users (id),
    set_at TIMESTAMP NOT NULL,
    CHECK (deputy_id <> user_id)
);
CREATE INDEX absences_deputy ON absences (deputy_id);
