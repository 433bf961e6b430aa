CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);
DROP INDEX outbox_status_due;
