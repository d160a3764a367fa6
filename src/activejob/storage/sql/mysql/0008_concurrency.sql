-- Concurrency limits (limits_concurrency): the state 'blocked', the limits a job runs
-- under, and the slots jobs hold (see the SQLite and PostgreSQL migrations of the same
-- name). activejob_concurrency_keys holds one row per key, locked to serialise the
-- slot counts of that key. The tables first (safe to run again), then one ALTER of
-- the jobs table: a single statement, so it applies whole or not at all.

CREATE TABLE IF NOT EXISTS activejob_concurrency_slots (
    concurrency_key VARCHAR(255) NOT NULL,
    job_ref         BIGINT       NOT NULL,
    expires_at      DOUBLE       NOT NULL,
    PRIMARY KEY (concurrency_key, job_ref),
    -- Releasing a job's slots when it finishes.
    KEY activejob_concurrency_slots_job (job_ref)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS activejob_concurrency_keys (
    concurrency_key VARCHAR(255) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE activejob_jobs
    ADD COLUMN concurrency LONGTEXT,
    ADD COLUMN blocked_by VARCHAR(255),
    DROP CONSTRAINT activejob_jobs_state,
    ADD CONSTRAINT activejob_jobs_state CHECK (state IN
        ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded', 'blocked')),
    -- The next blocked job of a key: priority, then first enqueued.
    ADD KEY activejob_jobs_blocked (state, blocked_by, priority, id);
