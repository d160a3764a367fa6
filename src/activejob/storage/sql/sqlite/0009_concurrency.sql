-- Concurrency limits (limits_concurrency): the state 'blocked', the limits a job runs
-- under, and the slots jobs hold.
--
-- activejob_jobs.concurrency is the job's limits as JSON ([{"key", "limit",
-- "duration", "on_conflict"}], keys sorted), NULL for a job without any;
-- blocked_by is the key a blocked job waits for. A slot is one row of
-- activejob_concurrency_slots, held by a ready or running job until it finishes
-- (or is scheduled to run again), and counted only until expires_at: a slot whose
-- job was lost comes back after the limit's duration at the latest.

ALTER TABLE activejob_jobs ADD COLUMN concurrency TEXT;

ALTER TABLE activejob_jobs ADD COLUMN blocked_by TEXT;

-- The state CHECK of 0001/0002 only grows by one value, which every stored row
-- already satisfies: the constraint's text is edited in place (SQLite's documented
-- procedure for changing a CHECK, https://sqlite.org/lang_altertable.html#otheralter)
-- instead of rebuilding the table, so the columns and indexes other migrations
-- added stay as they are. RESET makes SQLite read the schema again at once.
PRAGMA writable_schema = ON;

UPDATE sqlite_master
SET sql = replace(sql, '''discarded'')', '''discarded'', ''blocked'')')
WHERE type = 'table' AND name = 'activejob_jobs' AND sql NOT LIKE '%''blocked''%';

PRAGMA writable_schema = RESET;

-- Fail the migration (and roll it back) if the edit found no state CHECK to extend.
CREATE TEMP TABLE activejob_concurrency_migration_check (ok INTEGER CHECK (ok = 1));

INSERT INTO activejob_concurrency_migration_check
SELECT count(*) FROM sqlite_master
WHERE type = 'table' AND name = 'activejob_jobs' AND sql LIKE '%''discarded'', ''blocked''%';

DROP TABLE activejob_concurrency_migration_check;

CREATE TABLE activejob_concurrency_slots (
    concurrency_key TEXT    NOT NULL,
    job_ref         INTEGER NOT NULL,
    expires_at      REAL    NOT NULL,
    PRIMARY KEY (concurrency_key, job_ref)
);

-- Releasing a job's slots when it finishes.
CREATE INDEX activejob_concurrency_slots_job ON activejob_concurrency_slots (job_ref);

-- The next blocked job of a key: priority, then first enqueued.
CREATE INDEX activejob_jobs_blocked ON activejob_jobs (blocked_by, priority, id)
    WHERE state = 'blocked';
