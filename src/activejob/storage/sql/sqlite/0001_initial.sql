-- The jobs table and its indexes, designed so claims stay fast with millions of
-- finished rows: every index a worker uses is partial, over the few rows that
-- are claimable or running; finished rows appear only in the pruning index.
-- Timestamps are epoch seconds (REAL).

CREATE TABLE activejob_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT    NOT NULL,
    job_class       TEXT    NOT NULL,
    queue_name      TEXT    NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL CHECK (state IN
                        ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded')),
    payload         TEXT    NOT NULL,
    run_at          REAL    NOT NULL,
    created_at      REAL    NOT NULL,
    started_at      REAL,
    finished_at     REAL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    crashes         INTEGER NOT NULL DEFAULT 0,
    worker_id       TEXT,
    heartbeat_at    REAL,
    error_class     TEXT,
    error_message   TEXT,
    error_traceback TEXT
);

-- Claims from any queue: smaller priority first, then oldest run_at.
CREATE INDEX activejob_jobs_claim_any ON activejob_jobs (priority, run_at, id)
    WHERE state IN ('ready', 'scheduled');

-- Claims from one named queue, and the wait() probe for the next due job.
CREATE INDEX activejob_jobs_claim_queue ON activejob_jobs (queue_name, priority, run_at, id)
    WHERE state IN ('ready', 'scheduled');

-- Heartbeats (by worker) and recovery (every running row).
CREATE INDEX activejob_jobs_running ON activejob_jobs (worker_id)
    WHERE state = 'running';

-- Pruning finished jobs by age.
CREATE INDEX activejob_jobs_finished ON activejob_jobs (finished_at)
    WHERE state IN ('succeeded', 'failed', 'discarded');

-- activejob.status(job_id).
CREATE INDEX activejob_jobs_job_id ON activejob_jobs (job_id);

CREATE TABLE activejob_paused_queues (
    queue_name TEXT PRIMARY KEY,
    paused_at  REAL NOT NULL
);

CREATE TABLE activejob_workers (
    id           TEXT PRIMARY KEY,
    info         TEXT,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
