-- Unique jobs (activejob.flow.unique). unique_key is the job's key as computed at
-- enqueue (shown to operators); unique_lock its SHA-256 while the job may hold it,
-- under a unique index (MariaDB has no partial indexes, but a unique index admits
-- any number of NULLs): of two concurrent inserts with one key, one wins. A job
-- holds its key while its state says so (see release_unique_lock in queries.sql);
-- the lock of a job that no longer holds it is cleared by the next enqueue of the
-- same key, in the statement before that enqueue's insert is tried again.
-- unique_until is 'started' or 'finished'; unique_expires_at (epoch seconds) ends
-- the hold of a key declared with `within`, whatever the job's state.
-- Safe to run again (DDL commits by itself here; see storage.py).

ALTER TABLE activejob_jobs
    ADD COLUMN IF NOT EXISTS unique_key        TEXT,
    ADD COLUMN IF NOT EXISTS unique_lock       CHAR(64),
    ADD COLUMN IF NOT EXISTS unique_until      VARCHAR(16),
    ADD COLUMN IF NOT EXISTS unique_expires_at DOUBLE;

CREATE UNIQUE INDEX IF NOT EXISTS activejob_jobs_unique_lock ON activejob_jobs (unique_lock);
