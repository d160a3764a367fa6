-- Indexes for the dashboard and the operator's CLI, so that no page scans the
-- jobs table however many rows it holds (see docs/dashboard.md, "Scale"):
--   activejob_jobs_state_queue: listing by state and queue, newest first, a page
--     at a time by id (keyset); counting a queue's jobs in one state up to a cap;
--     finding the queues that have jobs in a state (a skip scan, one probe a queue);
--   activejob_jobs_state: listing one state across queues, newest first (every
--     SQLite index ends with the rowid: this is (state, id));
--   activejob_jobs_pending_run_at: ready and scheduled jobs by queue and run_at
--     (the oldest ready job's latency, scheduled jobs due or not yet due).
-- Not partial, as on PostgreSQL: SQLite plans a statement before its parameters
-- are bound, so it cannot know that "state = :state" meets an index's WHERE.
-- Each holds every job (no queue name is empty), but only a statement that names
-- the term "queue_name <> ''" may use it: led by state, they would otherwise win
-- the worker's claims, which must read the claim indexes in claim order.
-- SQLite builds them in the migration, one pass over the table each.
CREATE INDEX IF NOT EXISTS activejob_jobs_state_queue ON activejob_jobs (state, queue_name)
    WHERE queue_name <> '';
CREATE INDEX IF NOT EXISTS activejob_jobs_state ON activejob_jobs (state)
    WHERE queue_name <> '';
CREATE INDEX IF NOT EXISTS activejob_jobs_pending_run_at ON activejob_jobs (state, queue_name, run_at)
    WHERE queue_name <> '';
