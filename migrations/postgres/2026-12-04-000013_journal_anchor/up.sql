-- The number of journal entries each case has recorded: the anchor that makes the loss of a
-- journal's newest entries (or of all of them) detectable. The chain itself only shows edits,
-- gaps and reordering; a journal cut short at its end is still a valid chain.
-- Every writer of `case_events` sets it in the same transaction (`journal::append`, the case
-- commands' update, a new case's insert), and `vorgang audit verify` compares.
ALTER TABLE cases ADD COLUMN journal_seq INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET journal_seq = COALESCE(
    (SELECT max(e.seq) FROM case_events e WHERE e.case_id = cases.id), 0);
