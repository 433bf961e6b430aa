CREATE INDEX timers_status_due ON timers (status, due);
DROP INDEX timers_scheduled_due;
