-- Recurring tasks (activejob.recurring). A scheduler declares its tasks here;
-- operators pause and resume them. Each run of a task is one row of
-- activejob_recurring_executions, inserted in the transaction that stores its
-- job: the primary key (task_key, run_at) lets one scheduler win each run,
-- however many race for it (a second insert waits for the first transaction,
-- then does nothing). Times are epoch seconds as the scheduler computes them;
-- run_at is whole seconds.

CREATE TABLE activejob_recurring_tasks (
    task_key    text             PRIMARY KEY,
    job_class   text             NOT NULL,
    schedule    text             NOT NULL,
    timezone    text             NOT NULL,
    queue_name  text             NOT NULL,
    priority    integer          NOT NULL DEFAULT 0,
    payload     text             NOT NULL,
    paused      boolean          NOT NULL DEFAULT false,
    created_at  double precision NOT NULL,
    declared_at double precision NOT NULL,
    resumed_at  double precision,
    last_run_at bigint
);

CREATE TABLE activejob_recurring_executions (
    task_key   text             NOT NULL,
    run_at     bigint           NOT NULL,
    job_id     text             NOT NULL,
    created_at double precision NOT NULL,
    PRIMARY KEY (task_key, run_at)
);

CREATE INDEX activejob_recurring_executions_run_at ON activejob_recurring_executions (run_at);
