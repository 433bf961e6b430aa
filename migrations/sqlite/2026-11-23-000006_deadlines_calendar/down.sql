DROP TABLE calendar_tokens;
ALTER TABLE organisations DROP COLUMN head_email;
DROP INDEX timers_scheduled_deadline;
DROP INDEX timers_scheduled_due;
ALTER TABLE timers DROP COLUMN deadline_reason;
ALTER TABLE timers DROP COLUMN deadline;
ALTER TABLE timers DROP COLUMN kind;
CREATE INDEX timers_scheduled_due ON timers (due, id) WHERE status = 'scheduled';
