-- Recurring tasks (activejob.recurring). A scheduler declares its tasks here;
-- operators pause and resume them. Each run of a task is one row of
-- activejob_recurring_executions, inserted in the transaction that stores its
-- job: the primary key (task_key, run_at) lets one scheduler win each run,
-- however many race for it. Times are epoch seconds; run_at is whole seconds.

CREATE TABLE activejob_recurring_tasks (
    task_key    TEXT    PRIMARY KEY,
    job_class   TEXT    NOT NULL,
    schedule    TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    queue_name  TEXT    NOT NULL,
    priority    INTEGER NOT NULL DEFAULT 0,
    payload     TEXT    NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    declared_at REAL    NOT NULL,
    resumed_at  REAL,
    last_run_at INTEGER
);

CREATE TABLE activejob_recurring_executions (
    task_key   TEXT    NOT NULL,
    run_at     INTEGER NOT NULL,
    job_id     TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (task_key, run_at)
);

-- Pruning old runs by age.
CREATE INDEX activejob_recurring_executions_run_at ON activejob_recurring_executions (run_at);
