-- Recurring tasks (activejob.recurring). A scheduler declares its tasks here;
-- operators pause and resume them. Each run of a task is one row of
-- activejob_recurring_executions, inserted in the transaction that stores its
-- job: the primary key (task_key, run_at) lets one scheduler win each run,
-- however many race for it. Times are epoch seconds; run_at is whole seconds.
-- Safe to run again (DDL commits by itself here; see storage.py).

CREATE TABLE IF NOT EXISTS activejob_recurring_tasks (
    task_key    VARCHAR(255)  NOT NULL PRIMARY KEY,
    job_class   VARCHAR(1000) NOT NULL,
    schedule    VARCHAR(255)  NOT NULL,
    timezone    VARCHAR(255)  NOT NULL,
    queue_name  VARCHAR(255)  NOT NULL,
    priority    INT           NOT NULL DEFAULT 0,
    payload     LONGTEXT      NOT NULL,
    paused      TINYINT       NOT NULL DEFAULT 0,
    created_at  DOUBLE        NOT NULL,
    declared_at DOUBLE        NOT NULL,
    resumed_at  DOUBLE,
    last_run_at BIGINT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS activejob_recurring_executions (
    task_key   VARCHAR(255) NOT NULL,
    run_at     BIGINT       NOT NULL,
    job_id     VARCHAR(255) NOT NULL,
    created_at DOUBLE       NOT NULL,
    PRIMARY KEY (task_key, run_at),
    KEY activejob_recurring_executions_run_at (run_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
