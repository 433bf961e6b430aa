-- What `vorgang demo` created (or changed), so `vorgang demo --remove` deletes exactly that:
-- `case`, `user` and `organisation` rows it created, and `office` rows for the seeded Kreise and
-- Städte whose addresses it set. A list of its own rather than a `demo` column on the core
-- tables: the core tables and their queries stay as they are, and a changed seeded row (an
-- office) can be told from a created one.
CREATE TABLE demo_records (
    kind TEXT NOT NULL CHECK (kind IN ('case', 'user', 'organisation', 'office')),
    record_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (kind, record_id)
);
