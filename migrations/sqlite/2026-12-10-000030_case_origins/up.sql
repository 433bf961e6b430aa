-- Which case started which: a step's `start_case` effect (the Bewilligung starts the Betrieb, the
-- Anregung the Antrag) links the new case to the case and step it came from. A case has at most
-- one origin; removing either case removes the link (the started case's journal keeps the
-- origin's Aktenzeichen).
CREATE TABLE case_origins (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    origin_case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    step TEXT NOT NULL
);
CREATE INDEX case_origins_origin_case_id ON case_origins (origin_case_id);
