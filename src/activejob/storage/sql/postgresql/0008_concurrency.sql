-- Concurrency limits (limits_concurrency): the state 'blocked', the limits a job runs
-- under, and the slots jobs hold.
--
-- activejob_jobs.concurrency is the job's limits as JSON ([{"key", "limit",
-- "duration", "on_conflict"}], keys sorted), NULL for a job without any;
-- blocked_by is the key a blocked job waits for. A slot is one row of
-- activejob_concurrency_slots, held by a ready or running job until it finishes
-- (or is scheduled to run again), and counted only until expires_at. Slot counts
-- of a key are serialised by a transaction-level advisory lock on the key.

ALTER TABLE activejob_jobs ADD COLUMN IF NOT EXISTS concurrency text;

ALTER TABLE activejob_jobs ADD COLUMN IF NOT EXISTS blocked_by text;

-- The state CHECK grows by one value. Every stored row satisfies the old, stricter
-- check, so the new one is added NOT VALID and validated at once.
ALTER TABLE activejob_jobs DROP CONSTRAINT IF EXISTS activejob_jobs_state_check;

ALTER TABLE activejob_jobs ADD CONSTRAINT activejob_jobs_state_check CHECK (state IN
    ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded', 'blocked')) NOT VALID;

ALTER TABLE activejob_jobs VALIDATE CONSTRAINT activejob_jobs_state_check;

CREATE TABLE activejob_concurrency_slots (
    concurrency_key text        NOT NULL,
    job_ref         bigint      NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (concurrency_key, job_ref)
) WITH (
    -- A few live rows and constant churn: vacuum by dead-row count, not by share,
    -- or every count of a key's slots walks the dead ones.
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 200,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 200
);

-- Releasing a job's slots when it finishes.
CREATE INDEX activejob_concurrency_slots_job ON activejob_concurrency_slots (job_ref);

-- The next blocked job of a key: priority, then first enqueued.
CREATE INDEX activejob_jobs_blocked ON activejob_jobs (blocked_by, priority, id)
    WHERE state = 'blocked';
