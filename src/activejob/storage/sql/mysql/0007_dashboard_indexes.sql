-- Indexes for the dashboard and the operator's CLI, so that no page scans the
-- jobs table however many rows it holds (see docs/dashboard.md, "Scale"):
--   activejob_jobs_state_queue: listing by state (and queue), newest first, a page
--     at a time by id (keyset); counting a queue's jobs in one state up to a cap;
--     finding the queues that have jobs in a state (a skip scan, one probe a queue);
--   activejob_jobs_state: listing one state across queues, newest first (InnoDB
--     keeps the primary key in every index: this is (state, id));
--   activejob_jobs_pending_run_at: ready and scheduled jobs by queue and run_at
--     (the oldest ready job's latency, scheduled jobs due or not yet due).
-- MariaDB and MySQL have no partial indexes: both cover every row. One ALTER
-- builds both (online, in place), so the step applies whole or not at all
-- (MySQL 8 has no CREATE INDEX IF NOT EXISTS).
ALTER TABLE activejob_jobs
    ADD INDEX activejob_jobs_state_queue (state, queue_name, id),
    ADD INDEX activejob_jobs_state (state),
    ADD INDEX activejob_jobs_pending_run_at (state, queue_name, run_at);
