-- Indexes for the dashboard and the operator's CLI, so that no page scans the
-- jobs table however many rows it holds (see docs/dashboard.md, "Scale").
-- None holds running rows: given an index on state, the planner answers the
-- worker's "state = 'running'" statements (complete_jobs) by reading every
-- running entry, dead ones included, instead of a primary-key probe per result,
-- which cost claim+complete two thirds of its rate (bench/dashboard_index_cost.py).
-- Running jobs are few and counted on activejob_jobs_running.
--   listing by state (and queue), newest first, a page at a time by id (keyset);
--   counting a queue's jobs in one state, up to a cap (exact below it);
--   finding the queues that have jobs in a state (a skip scan, one probe a queue).
-- On a large existing table, build them beforehand with CREATE INDEX CONCURRENTLY
-- under these names: IF NOT EXISTS then finds them and this step costs nothing.
CREATE INDEX IF NOT EXISTS activejob_jobs_state_queue ON activejob_jobs (state, queue_name, id)
    WHERE state <> 'running';

-- Listing one state across queues, newest first. Succeeded jobs are left out: they
-- are most of a store, so walking the primary key backwards finds a page of them
-- at once, and the index stays small.
CREATE INDEX IF NOT EXISTS activejob_jobs_state_id ON activejob_jobs (state, id)
    WHERE state NOT IN ('succeeded', 'running');

-- Ready and scheduled jobs by queue and run_at: the oldest ready job of a queue
-- (its latency), and scheduled jobs split into due and not yet due.
CREATE INDEX IF NOT EXISTS activejob_jobs_pending_run_at ON activejob_jobs (state, queue_name, run_at)
    WHERE state IN ('ready', 'scheduled');
