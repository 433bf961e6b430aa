-- The poller's claim (`scheduler::timers::claim_statement`) asks for scheduled timers due by
-- today in (due, id) order, 32 at a time. An index over (due, id) of the scheduled rows only
-- answers it by reading just the rows it returns: no sort of every due row per batch (a backlog
-- after downtime made each claim on PostgreSQL sort all timers of the oldest due day), and
-- fired or cancelled timers, which only ever accumulate, are not in it.
CREATE INDEX timers_scheduled_due ON timers (due, id) WHERE status = 'scheduled';
DROP INDEX timers_status_due;
