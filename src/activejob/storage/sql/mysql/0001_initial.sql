-- The jobs table and its indexes. MariaDB and MySQL have no partial indexes: the
-- stored column `pending` (1 while a job is ready or scheduled) leads the claim
-- indexes instead, so a claim reads only claimable rows, in claim order, however
-- many finished rows the table holds. Timestamps are epoch seconds (DOUBLE)
-- written from the workers' clock (never NOW()); text compares byte for byte
-- (utf8mb4_bin), as on the other backends. DDL commits on its own in MySQL, so
-- every statement here may run again after an interrupted migration.

CREATE TABLE IF NOT EXISTS activejob_jobs (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    job_id          VARCHAR(255) NOT NULL,
    job_class       VARCHAR(1000) NOT NULL,
    queue_name      VARCHAR(255) NOT NULL,
    priority        INT          NOT NULL DEFAULT 0,
    state           VARCHAR(16)  NOT NULL,
    pending         TINYINT      GENERATED ALWAYS AS (state IN ('ready', 'scheduled')) STORED,
    payload         LONGTEXT     NOT NULL,
    run_at          DOUBLE       NOT NULL,
    created_at      DOUBLE       NOT NULL,
    started_at      DOUBLE,
    finished_at     DOUBLE,
    attempts        INT          NOT NULL DEFAULT 0,
    crashes         INT          NOT NULL DEFAULT 0,
    worker_id       VARCHAR(255),
    heartbeat_at    DOUBLE,
    error_class     VARCHAR(1000),
    error_message   LONGTEXT,
    error_traceback LONGTEXT,
    CONSTRAINT activejob_jobs_state CHECK (state IN
        ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded')),
    -- Claims from any queue: smaller priority first, then oldest run_at.
    KEY activejob_jobs_claim_any (pending, priority, run_at, id),
    -- Claims from one named queue, and the wait() probe for the next due job.
    KEY activejob_jobs_claim_queue (pending, queue_name, priority, run_at, id),
    -- Heartbeats (by worker) and recovery (every running row).
    KEY activejob_jobs_running (state, worker_id),
    -- Pruning finished jobs by age (unfinished rows have no finished_at).
    KEY activejob_jobs_finished (finished_at),
    -- activejob.status(job_id).
    KEY activejob_jobs_job_id (job_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS activejob_paused_queues (
    queue_name VARCHAR(255) NOT NULL PRIMARY KEY,
    paused_at  DOUBLE       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS activejob_workers (
    id           VARCHAR(255) NOT NULL PRIMARY KEY,
    info         LONGTEXT,
    started_at   DOUBLE       NOT NULL,
    heartbeat_at DOUBLE       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
