-- One row per run of a periodic job (`scheduler::jobs`). The unique (job, scheduled_for) is the
-- run lock: of several instances that wake for the same scheduled time, only the one whose
-- insert succeeds runs the job; the others skip it.
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    scheduled_for TIMESTAMP NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed')),
    counts TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    owner TEXT NOT NULL,
    UNIQUE (job, scheduled_for)
);
-- The admin list shows the latest runs first.
CREATE INDEX job_runs_started ON job_runs (started_at, id);
