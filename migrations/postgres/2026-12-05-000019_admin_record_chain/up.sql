-- The administration's record becomes tamper-evident like the case journals: each entry carries
-- its position (seq, from 1, without gaps), the hash of the entry before and its own hash (see
-- service::admin_chain). Entries written before this migration have seq 0 and are chained once,
-- in the order they were written, when the server next starts (`legacy_pending`); an entry with
-- seq 0 after that was inserted past vorgang and stays unchained, for `vorgang audit verify`.
ALTER TABLE admin_events ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE admin_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE admin_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX admin_events_seq ON admin_events (seq) WHERE seq > 0;

-- The newest entry of the record: removing entries at its end shows against it, and every
-- append locks this one row, so two administrators' changes cannot fork the chain.
CREATE TABLE admin_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    legacy_pending BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO admin_chain (id, last_seq, last_hash, legacy_pending)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', TRUE);
