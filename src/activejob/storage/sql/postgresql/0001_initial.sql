-- The jobs table and its indexes, designed so claims stay fast with millions of
-- finished rows: every index a worker uses is partial, over the few rows that
-- are claimable or running; finished rows appear only in the pruning index.
-- Timestamps are timestamptz, written from the workers' clock (never now()).

CREATE TABLE activejob_jobs (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id          text        NOT NULL,
    job_class       text        NOT NULL,
    queue_name      text        NOT NULL,
    priority        integer     NOT NULL DEFAULT 0,
    state           text        NOT NULL CHECK (state IN
                        ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded')),
    payload         text        NOT NULL,
    run_at          timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    crashes         integer     NOT NULL DEFAULT 0,
    worker_id       text,
    heartbeat_at    timestamptz,
    error_class     text,
    error_message   text,
    error_traceback text
) WITH (
    -- A queue table churns: vacuum it after 1% dead rows, not the default 20%,
    -- so the partial indexes stay small.
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02
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
    queue_name text PRIMARY KEY,
    paused_at  timestamptz NOT NULL
);

CREATE TABLE activejob_workers (
    id           text PRIMARY KEY,
    info         text,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

-- Wake idle workers when a job goes back to ready or scheduled (retry, recovery,
-- release): the NOTIFY is sent on commit, in the same transaction. Inserts
-- notify from the INSERT statement itself (queries.sql), which costs less than
-- a trigger on the hot enqueue path.
CREATE FUNCTION activejob_notify_requeued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('activejob', NEW.queue_name);
    RETURN NULL;
END
$$;

CREATE TRIGGER activejob_jobs_requeued
    AFTER UPDATE OF state ON activejob_jobs
    FOR EACH ROW
    WHEN (NEW.state IN ('ready', 'scheduled') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION activejob_notify_requeued();
