-- The delivery worker's claim (`mail::outbox::claim_due`) asks for pending rows that are due and
-- for sending rows whose lease expired, each in (next_attempt_at, id) order, a few at a time.
-- With id in the index, each question is one ordered range that stops at the batch size; before,
-- every claim read and sorted the whole backlog. The admin views' status filters use it too.
CREATE INDEX outbox_status_due ON outbox (status, next_attempt_at, id);
DROP INDEX outbox_status_next;
