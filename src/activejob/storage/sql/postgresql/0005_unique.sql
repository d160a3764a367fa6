-- Unique jobs (activejob.flow.unique). unique_key is the job's key as computed at
-- enqueue (shown to operators); unique_lock its SHA-256 while the job may hold it,
-- under a unique index: of two concurrent inserts with one key, one wins. A job
-- holds its key while its state says so (see release_unique_lock in queries.sql);
-- the lock of a job that no longer holds it is cleared by the next enqueue of the
-- same key, in the statement before that enqueue's insert is tried again.
-- unique_until is 'started' or 'finished'; unique_expires_at (epoch seconds) ends
-- the hold of a key declared with `within`, whatever the job's state.

ALTER TABLE activejob_jobs
    ADD COLUMN unique_key        text,
    ADD COLUMN unique_lock       text,
    ADD COLUMN unique_until      text,
    ADD COLUMN unique_expires_at float8;

CREATE UNIQUE INDEX activejob_jobs_unique_lock ON activejob_jobs (unique_lock)
    WHERE unique_lock IS NOT NULL;
