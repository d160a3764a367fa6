-- Typed columns. SQLite's column types are only affinities: a priority of 'high' or a
-- run_at of 'soon' written by hand (or by a buggy writer) was stored as text, and every
-- claim then failed on it. CHECK constraints now refuse such rows (a STRICT table would
-- need SQLite 3.37). The table is rebuilt with the same rows and ids; a row that breaks
-- the new checks is carried over with defaults in its bad columns and, unless it had
-- finished, as a failed job whose DeserializationError names those columns, so the
-- migration never fails on it and an operator can see, retry or discard it.

CREATE TABLE activejob_jobs_typed (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT    NOT NULL CHECK (typeof(job_id) = 'text'),
    job_class       TEXT    NOT NULL CHECK (typeof(job_class) = 'text'),
    queue_name      TEXT    NOT NULL CHECK (typeof(queue_name) = 'text'),
    priority        INTEGER NOT NULL DEFAULT 0 CHECK (typeof(priority) = 'integer'),
    state           TEXT    NOT NULL CHECK (state IN
                        ('scheduled', 'ready', 'running', 'succeeded', 'failed', 'discarded')),
    payload         TEXT    NOT NULL CHECK (typeof(payload) = 'text'),
    run_at          REAL    NOT NULL CHECK (typeof(run_at) = 'real'),
    created_at      REAL    NOT NULL CHECK (typeof(created_at) = 'real'),
    started_at      REAL    CHECK (started_at IS NULL OR typeof(started_at) = 'real'),
    finished_at     REAL    CHECK (finished_at IS NULL OR typeof(finished_at) = 'real'),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (typeof(attempts) = 'integer'),
    crashes         INTEGER NOT NULL DEFAULT 0 CHECK (typeof(crashes) = 'integer'),
    worker_id       TEXT,
    heartbeat_at    REAL    CHECK (heartbeat_at IS NULL OR typeof(heartbeat_at) = 'real'),
    error_class     TEXT,
    error_message   TEXT,
    error_traceback TEXT
);

WITH checked AS (
    SELECT *,
        (julianday('now') - 2440587.5) * 86400.0 AS migrated_at,
        state IN ('succeeded', 'failed', 'discarded') AS finished,
        rtrim(
            CASE WHEN typeof(job_id) <> 'text'
                 THEN 'job_id ' || substr(quote(job_id), 1, 60) || ' is not text; ' ELSE '' END ||
            CASE WHEN typeof(job_class) <> 'text'
                 THEN 'job_class ' || substr(quote(job_class), 1, 60) || ' is not text; '
                 ELSE '' END ||
            CASE WHEN typeof(queue_name) <> 'text'
                 THEN 'queue_name ' || substr(quote(queue_name), 1, 60) || ' is not text; '
                 ELSE '' END ||
            CASE WHEN typeof(priority) <> 'integer'
                 THEN 'priority ' || substr(quote(priority), 1, 60) || ' is not an integer; '
                 ELSE '' END ||
            CASE WHEN typeof(payload) <> 'text' THEN 'payload is not text; ' ELSE '' END ||
            CASE WHEN typeof(run_at) <> 'real'
                 THEN 'run_at ' || substr(quote(run_at), 1, 60) || ' is not a time; '
                 ELSE '' END ||
            CASE WHEN typeof(created_at) <> 'real'
                 THEN 'created_at ' || substr(quote(created_at), 1, 60) || ' is not a time; '
                 ELSE '' END ||
            CASE WHEN typeof(started_at) NOT IN ('real', 'null')
                 THEN 'started_at ' || substr(quote(started_at), 1, 60) || ' is not a time; '
                 ELSE '' END ||
            CASE WHEN typeof(finished_at) NOT IN ('real', 'null')
                 THEN 'finished_at ' || substr(quote(finished_at), 1, 60) || ' is not a time; '
                 ELSE '' END ||
            CASE WHEN typeof(heartbeat_at) NOT IN ('real', 'null')
                 THEN 'heartbeat_at ' || substr(quote(heartbeat_at), 1, 60) || ' is not a time; '
                 ELSE '' END ||
            CASE WHEN typeof(attempts) <> 'integer'
                 THEN 'attempts ' || substr(quote(attempts), 1, 60) || ' is not an integer; '
                 ELSE '' END ||
            CASE WHEN typeof(crashes) <> 'integer'
                 THEN 'crashes ' || substr(quote(crashes), 1, 60) || ' is not an integer; '
                 ELSE '' END,
            '; ') AS defects
    FROM activejob_jobs
)
INSERT INTO activejob_jobs_typed (
    id, job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
    started_at, finished_at, attempts, crashes, worker_id, heartbeat_at,
    error_class, error_message, error_traceback
)
SELECT
    id,
    CASE WHEN typeof(job_id) = 'text' THEN job_id ELSE quote(job_id) END,
    CASE WHEN typeof(job_class) = 'text' THEN job_class ELSE quote(job_class) END,
    CASE WHEN typeof(queue_name) = 'text' THEN queue_name ELSE quote(queue_name) END,
    CASE WHEN typeof(priority) = 'integer' THEN priority ELSE 0 END,
    CASE WHEN defects = '' OR finished THEN state ELSE 'failed' END,
    CASE WHEN typeof(payload) = 'text' THEN payload ELSE '{}' END,
    CASE WHEN typeof(run_at) = 'real' THEN run_at ELSE migrated_at END,
    CASE WHEN typeof(created_at) = 'real' THEN created_at ELSE migrated_at END,
    CASE WHEN typeof(started_at) = 'real' THEN started_at END,
    CASE WHEN typeof(finished_at) = 'real' AND (defects = '' OR finished) THEN finished_at
         WHEN defects = '' THEN NULL
         ELSE migrated_at END,
    CASE WHEN typeof(attempts) = 'integer' THEN attempts ELSE 0 END,
    CASE WHEN typeof(crashes) = 'integer' THEN crashes ELSE 0 END,
    worker_id,
    CASE WHEN typeof(heartbeat_at) = 'real' THEN heartbeat_at END,
    CASE WHEN defects = '' OR finished THEN error_class
         ELSE 'activejob.errors.DeserializationError' END,
    CASE WHEN defects = '' OR finished THEN error_message
         ELSE 'the stored row is corrupt (found by schema migration 0002): ' || defects END,
    CASE WHEN defects = '' OR finished THEN error_traceback ELSE '' END
FROM checked;

-- Ids are never reused: the new table continues the old one's sequence.
DELETE FROM sqlite_sequence WHERE name = 'activejob_jobs_typed';

INSERT INTO sqlite_sequence (name, seq)
SELECT 'activejob_jobs_typed', seq FROM sqlite_sequence WHERE name = 'activejob_jobs';

DROP TABLE activejob_jobs;

ALTER TABLE activejob_jobs_typed RENAME TO activejob_jobs;

-- The indexes of 0001_initial.sql, which went with the old table.
CREATE INDEX activejob_jobs_claim_any ON activejob_jobs (priority, run_at, id)
    WHERE state IN ('ready', 'scheduled');

CREATE INDEX activejob_jobs_claim_queue ON activejob_jobs (queue_name, priority, run_at, id)
    WHERE state IN ('ready', 'scheduled');

CREATE INDEX activejob_jobs_running ON activejob_jobs (worker_id)
    WHERE state = 'running';

CREATE INDEX activejob_jobs_finished ON activejob_jobs (finished_at)
    WHERE state IN ('succeeded', 'failed', 'discarded');

CREATE INDEX activejob_jobs_job_id ON activejob_jobs (job_id);
