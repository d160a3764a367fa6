-- Named queries for SQLite (sqlite3 named parameters). Timestamps are epoch
-- seconds computed by Python (activejob._time.now), passed as :now.
-- Lists travel as one JSON array parameter read with json_each.

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS activejob_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at REAL NOT NULL
);

-- name: migrations_table_exists
SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'activejob_migrations';

-- name: schema_version
SELECT coalesce(max(version), 0) FROM activejob_migrations;

-- name: record_migration
INSERT INTO activejob_migrations (version, name, applied_at) VALUES (:version, :name, :now);

-- name: insert_job
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            rate_limits)
VALUES (
    :job_id, :job_class, :queue_name, :priority,
    CASE WHEN coalesce(:run_at, :now) > :now THEN 'scheduled' ELSE 'ready' END,
    :payload, coalesce(:run_at, :now), :now,
    :rate_limits
)
RETURNING id;

-- name: insert_jobs
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            rate_limits)
SELECT
    json_extract(value, '$.job_id'), json_extract(value, '$.job_class'),
    json_extract(value, '$.queue_name'), json_extract(value, '$.priority'),
    CASE WHEN coalesce(json_extract(value, '$.run_at'), :now) > :now THEN 'scheduled' ELSE 'ready' END,
    json_extract(value, '$.payload'), coalesce(json_extract(value, '$.run_at'), :now), :now,
    json_extract(value, '$.rate_limits')
FROM json_each(:jobs)
ORDER BY key
RETURNING id;

-- name: claim_any
UPDATE activejob_jobs
SET state = 'running', attempts = min(attempts, 9223372036854775806) + 1, worker_id = :worker_id,
    started_at = :now, heartbeat_at = :now
WHERE id IN (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= :now
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT :limit
)
RETURNING id, job_id, queue_name, payload, attempts, priority, run_at, job_class;

-- name: claim_exact
UPDATE activejob_jobs
SET state = 'running', attempts = min(attempts, 9223372036854775806) + 1, worker_id = :worker_id,
    started_at = :now, heartbeat_at = :now
WHERE id IN (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= :now AND queue_name = :queue
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT :limit
)
RETURNING id, job_id, queue_name, payload, attempts, priority, run_at, job_class;

-- name: claim_prefix
UPDATE activejob_jobs
SET state = 'running', attempts = min(attempts, 9223372036854775806) + 1, worker_id = :worker_id,
    started_at = :now, heartbeat_at = :now
WHERE id IN (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= :now
      AND substr(queue_name, 1, length(:queue)) = :queue
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT :limit
)
RETURNING id, job_id, queue_name, payload, attempts, priority, run_at, job_class;

-- name: next_due_any
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled')
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_exact
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND queue_name = :queue
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_prefix
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND substr(queue_name, 1, length(:queue)) = :queue
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: complete_jobs
-- One statement for a whole batch of results. Only rows still running (and, when
-- the result names its claim, still on that claim) change.
UPDATE activejob_jobs AS j
SET state = r.state,
    finished_at = CASE WHEN r.state IN ('succeeded', 'failed', 'discarded') THEN :now END,
    worker_id = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.worker_id END,
    heartbeat_at = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.heartbeat_at END,
    payload = coalesce(r.payload, j.payload),
    run_at = coalesce(r.run_at, j.run_at),
    queue_name = coalesce(r.queue_name, j.queue_name),
    priority = coalesce(r.priority, j.priority),
    error_class = coalesce(r.error_class, j.error_class),
    error_message = coalesce(r.error_message, j.error_message),
    error_traceback = coalesce(r.error_traceback, j.error_traceback)
FROM (
    SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.state') AS state,
           json_extract(value, '$.payload') AS payload, json_extract(value, '$.run_at') AS run_at,
           json_extract(value, '$.queue_name') AS queue_name,
           json_extract(value, '$.priority') AS priority,
           json_extract(value, '$.attempts') AS attempts,
           json_extract(value, '$.error_class') AS error_class,
           json_extract(value, '$.error_message') AS error_message,
           json_extract(value, '$.error_traceback') AS error_traceback
    FROM json_each(:results)
) AS r
WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);

-- name: succeed_jobs
-- complete_jobs for plain successes, the common case: a JSON array of [id, attempts]
-- pairs whose jobs only become succeeded (no payload, time, queue or error changes).
-- Two columns set instead of eleven, from two JSON extracts a row instead of ten:
-- half the cost of complete_jobs a job, inside the write lock that claims wait for.
UPDATE activejob_jobs AS j
SET state = 'succeeded', finished_at = :now
FROM (
    SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS attempts
    FROM json_each(:results)
) AS r
WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);

-- name: upsert_worker
INSERT INTO activejob_workers (id, info, started_at, heartbeat_at)
VALUES (:worker_id, :info, :now, :now)
ON CONFLICT (id) DO UPDATE
SET heartbeat_at = excluded.heartbeat_at, info = coalesce(excluded.info, activejob_workers.info);

-- name: heartbeat_jobs
UPDATE activejob_jobs SET heartbeat_at = :now WHERE worker_id = :worker_id AND state = 'running';

-- name: delete_worker
DELETE FROM activejob_workers WHERE id = :worker_id;

-- name: recover_jobs
-- Running rows whose worker went quiet: back to ready, or failed once they have
-- crashed their worker more than :max_crashes times.
UPDATE activejob_jobs
SET state = CASE WHEN crashes >= :max_crashes THEN 'failed' ELSE 'ready' END,
    crashes = crashes + 1,
    finished_at = CASE WHEN crashes >= :max_crashes THEN :now END,
    worker_id = CASE WHEN crashes >= :max_crashes THEN worker_id END,
    heartbeat_at = CASE WHEN crashes >= :max_crashes THEN heartbeat_at END,
    error_class = CASE WHEN crashes >= :max_crashes THEN :error_class ELSE error_class END,
    error_message = CASE WHEN crashes >= :max_crashes THEN :error_message ELSE error_message END,
    error_traceback = CASE WHEN crashes >= :max_crashes THEN :error_traceback ELSE error_traceback END
WHERE state = 'running' AND heartbeat_at < :cutoff
RETURNING state;

-- name: delete_stale_workers
DELETE FROM activejob_workers WHERE heartbeat_at < :cutoff;

-- name: prune_jobs
DELETE FROM activejob_jobs WHERE id IN (
    SELECT id FROM activejob_jobs
    WHERE state IN ('succeeded', 'failed', 'discarded') AND finished_at < :cutoff
    LIMIT :batch
);

-- name: get_job
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
FROM activejob_jobs WHERE job_id = :job_id ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
FROM activejob_jobs
WHERE (:states IS NULL OR (CASE WHEN state = 'scheduled' AND run_at <= :now THEN 'ready' ELSE state END)
                          IN (SELECT value FROM json_each(:states)))
  AND (:queue_name IS NULL OR queue_name = :queue_name)
  AND (:job_class IS NULL OR job_class = :job_class)
  AND (:job_ids IS NULL OR job_id IN (SELECT value FROM json_each(:job_ids)))
  AND (:job_id_pattern IS NULL OR job_id GLOB :job_id_pattern)
ORDER BY id DESC
LIMIT :limit OFFSET :offset;

-- name: retry_jobs
UPDATE activejob_jobs
SET state = 'ready', run_at = :now, finished_at = NULL, worker_id = NULL, heartbeat_at = NULL,
    crashes = 0
WHERE state IN ('failed', 'discarded')
  AND (:states IS NULL OR state IN (SELECT value FROM json_each(:states)))
  AND (:queue_name IS NULL OR queue_name = :queue_name)
  AND (:job_class IS NULL OR job_class = :job_class)
  AND (:job_ids IS NULL OR job_id IN (SELECT value FROM json_each(:job_ids)))
  AND (:job_id_pattern IS NULL OR job_id GLOB :job_id_pattern);

-- name: discard_jobs
UPDATE activejob_jobs
SET state = 'discarded', finished_at = :now
WHERE state IN ('ready', 'scheduled', 'failed', 'blocked')
  AND (:states IS NULL OR (CASE WHEN state = 'scheduled' AND run_at <= :now THEN 'ready' ELSE state END)
                          IN (SELECT value FROM json_each(:states)))
  AND (:queue_name IS NULL OR queue_name = :queue_name)
  AND (:job_class IS NULL OR job_class = :job_class)
  AND (:job_ids IS NULL OR job_id IN (SELECT value FROM json_each(:job_ids)))
  AND (:job_id_pattern IS NULL OR job_id GLOB :job_id_pattern);

-- name: pause_queue
INSERT INTO activejob_paused_queues (queue_name, paused_at) VALUES (:queue_name, :now)
ON CONFLICT (queue_name) DO NOTHING;

-- name: resume_queue
DELETE FROM activejob_paused_queues WHERE queue_name = :queue_name;

-- name: queue_counts
SELECT queue_name, CASE WHEN state = 'scheduled' AND run_at <= :now THEN 'ready' ELSE state END,
       count(*)
FROM activejob_jobs GROUP BY 1, 2;

-- name: paused_queues
SELECT queue_name FROM activejob_paused_queues;

-- name: list_workers
SELECT id, info, started_at, heartbeat_at FROM activejob_workers ORDER BY heartbeat_at DESC, id;

-- name: running_jobs
SELECT worker_id, job_id FROM activejob_jobs WHERE state = 'running' ORDER BY id;

-- name: recover_started_jobs
-- The jobs a dead worker had started (ids in :started, a JSON array): as
-- recover_jobs does, one crash each, failed past :max_crashes.
UPDATE activejob_jobs
SET state = CASE WHEN crashes >= :max_crashes THEN 'failed' ELSE 'ready' END,
    crashes = crashes + 1,
    finished_at = CASE WHEN crashes >= :max_crashes THEN :now END,
    worker_id = CASE WHEN crashes >= :max_crashes THEN worker_id END,
    heartbeat_at = CASE WHEN crashes >= :max_crashes THEN heartbeat_at END,
    error_class = CASE WHEN crashes >= :max_crashes THEN :error_class ELSE error_class END,
    error_message = CASE WHEN crashes >= :max_crashes THEN :error_message ELSE error_message END,
    error_traceback = CASE WHEN crashes >= :max_crashes THEN :error_traceback ELSE error_traceback END
WHERE state = 'running' AND worker_id = :worker_id
  AND id IN (SELECT value FROM json_each(:started))
RETURNING state;

-- name: release_worker_jobs
-- The rest of a dead worker's jobs had not started: back to ready, no crash.
UPDATE activejob_jobs
SET state = 'ready', worker_id = NULL, heartbeat_at = NULL
WHERE state = 'running' AND worker_id = :worker_id
RETURNING state;


-- name: declare_recurring_task
INSERT INTO activejob_recurring_tasks
    (task_key, job_class, schedule, timezone, queue_name, priority, payload, created_at, declared_at)
VALUES (:task_key, :job_class, :schedule, :timezone, :queue_name, :priority, :payload, :now, :now)
ON CONFLICT (task_key) DO UPDATE SET
    job_class = excluded.job_class, schedule = excluded.schedule, timezone = excluded.timezone,
    queue_name = excluded.queue_name, priority = excluded.priority, payload = excluded.payload,
    declared_at = excluded.declared_at;

-- name: list_recurring_tasks
SELECT task_key, job_class, schedule, timezone, queue_name, priority, payload, paused,
       created_at, declared_at, last_run_at, resumed_at
FROM activejob_recurring_tasks ORDER BY task_key;

-- name: set_recurring_paused
UPDATE activejob_recurring_tasks
SET paused = :paused, resumed_at = CASE WHEN :paused THEN resumed_at ELSE :now END
WHERE task_key = :task_key;

-- name: recurring_task_exists
SELECT count(*) FROM activejob_recurring_tasks WHERE task_key = :task_key;

-- name: insert_recurring_execution
INSERT INTO activejob_recurring_executions (task_key, run_at, job_id, created_at)
VALUES (:task_key, :run_at, :job_id, :now)
ON CONFLICT (task_key, run_at) DO NOTHING;

-- name: record_recurring_run
UPDATE activejob_recurring_tasks SET last_run_at = :run_at
WHERE task_key = :task_key AND (last_run_at IS NULL OR last_run_at < :run_at);

-- name: prune_recurring_executions
DELETE FROM activejob_recurring_executions WHERE run_at < :cutoff;

-- name: store_return_values
-- results: return values (django.tasks). The JSON text each succeeded job returned,
-- written just before complete_jobs in the same transaction, on rows still running
-- under the claim the result answers (so a stale result writes nothing).
UPDATE activejob_jobs AS j
SET return_value = r.return_value
FROM (
    SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.attempts') AS attempts,
           json_extract(value, '$.return_value') AS return_value
    FROM json_each(:results)
) AS r
WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);
-- flow: cancellation ---------------------------------------------------------------

-- name: cancel_find
SELECT id, state, attempts FROM activejob_jobs WHERE job_id = :job_id ORDER BY id DESC LIMIT 1;

-- name: cancel_discard
-- A waiting job is discarded at once ('blocked' is a waiting state of flow control).
UPDATE activejob_jobs
SET state = 'discarded', finished_at = :now, error_class = :error_class,
    error_message = :error_message, error_traceback = :error_traceback
WHERE id = :id AND state IN ('scheduled', 'ready', 'blocked');

-- name: cancel_request
UPDATE activejob_jobs SET cancel_attempts = attempts WHERE id = :id AND state = 'running';

-- name: cancel_requests
SELECT id FROM activejob_jobs
WHERE state = 'running' AND worker_id = :worker_id AND cancel_attempts = attempts;

-- name: cancel_pending
-- Which of these jobs (a JSON array of ids) run and were asked to stop in this claim.
SELECT id FROM activejob_jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'running' AND cancel_attempts = attempts;

-- name: discard_cancelled
-- Jobs handed back unrun (recovery, a drain, a retry) during the claim a cancel was
-- asked in: discarded, never run again.
UPDATE activejob_jobs
SET state = 'discarded', finished_at = :now, worker_id = NULL, heartbeat_at = NULL,
    error_class = :error_class, error_message = :error_message, error_traceback = :error_traceback
WHERE id IN (SELECT id FROM activejob_jobs WHERE cancel_attempts IS NOT NULL)
  AND cancel_attempts = attempts AND state IN ('ready', 'scheduled');
-- flow: unique ------------------------------------------------------------------
-- A job holds its unique key (activejob.flow.unique.holds_key): until a `within`
-- key expires; else, for until = 'finished', while it waits, runs or waits for a
-- retry; for until = 'started', while it waits and was never claimed.

-- name: insert_unique_job
-- No row back when another job's unique_lock has this key.
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            unique_key, unique_lock, unique_until, unique_expires_at, rate_limits)
VALUES (
    :job_id, :job_class, :queue_name, :priority,
    CASE WHEN coalesce(:run_at, :now) > :now THEN 'scheduled' ELSE 'ready' END,
    :payload, coalesce(:run_at, :now), :now,
    :unique_key, :unique_lock, :unique_until, :unique_expires_at, :rate_limits
)
ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
RETURNING id;

-- name: release_unique_lock
UPDATE activejob_jobs SET unique_lock = NULL
WHERE unique_lock = :unique_lock
  AND NOT CASE
      WHEN unique_expires_at IS NOT NULL THEN unique_expires_at > :now
      WHEN unique_until = 'finished' THEN state IN ('scheduled', 'ready', 'blocked', 'running')
      ELSE state IN ('scheduled', 'ready', 'blocked') AND attempts = 0
  END;

-- name: unique_holder
SELECT id, job_id, state, attempts FROM activejob_jobs WHERE unique_lock = :unique_lock;

-- name: replace_unique_job
-- The waiting holder takes the new job's payload (with its own job_id), run time,
-- queue and priority; a blocked one stays blocked.
UPDATE activejob_jobs
SET payload = :payload, queue_name = :queue_name, priority = :priority,
    run_at = coalesce(:run_at, :now),
    state = CASE WHEN state = 'blocked' THEN state
                 WHEN coalesce(:run_at, :now) > :now THEN 'scheduled' ELSE 'ready' END
WHERE id = :id AND unique_lock = :unique_lock
  AND state IN ('scheduled', 'ready', 'blocked') AND attempts = 0;

-- flow: rate limits ------------------------------------------------------------------
-- A job's limits are a JSON array of {"key", "limit", "per"} (flow.rate); the log of
-- each (key, per) is one activejob_rate_windows row. :kind is 'any', 'exact' or
-- 'prefix', as the claim_* queries' patterns.

-- name: rate_candidates
-- Due rate-limited jobs of one queue pattern, in claim order, but none whose window
-- is known to be full now (so a backlog of one key never hides the others).
SELECT j.id, j.rate_limits, j.job_id FROM activejob_jobs AS j
WHERE j.rate_limits IS NOT NULL AND j.state IN ('ready', 'scheduled') AND j.run_at <= :now
  AND (:kind = 'any' OR (:kind = 'exact' AND j.queue_name = :queue)
       OR (:kind = 'prefix' AND substr(j.queue_name, 1, length(:queue)) = :queue))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(j.rate_limits) AS l
      JOIN activejob_rate_windows AS w
        ON w.rate_key = json_extract(l.value, '$.key') AND w.per = json_extract(l.value, '$.per')
      WHERE w.full_until > :now)
ORDER BY j.priority, j.run_at, j.id
LIMIT :limit;

-- name: rate_windows_lock
-- The logs of :buckets (a JSON array of [key, per]), created empty when new, and
-- locked (in key order, so two claims never deadlock) until the claim commits.
INSERT INTO activejob_rate_windows (rate_key, per, touched_at)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), :now
FROM json_each(:buckets) WHERE true
ORDER BY 1, 2
ON CONFLICT (rate_key, per) DO UPDATE SET rate_key = excluded.rate_key
RETURNING rate_key, per, starts;

-- name: rate_claim_jobs
UPDATE activejob_jobs
SET state = 'running', attempts = min(attempts, 9223372036854775806) + 1, worker_id = :worker_id,
    started_at = :now, heartbeat_at = :now
WHERE id IN (SELECT value FROM json_each(:ids)) AND state IN ('ready', 'scheduled')
RETURNING id, job_id, queue_name, payload, attempts, priority, run_at, job_class;

-- name: rate_windows_save
UPDATE activejob_rate_windows AS w
SET starts = json_extract(r.value, '$.starts'), full_until = json_extract(r.value, '$.full_until'),
    touched_at = :now
FROM json_each(:windows) AS r
WHERE w.rate_key = json_extract(r.value, '$.key') AND w.per = json_extract(r.value, '$.per');

-- name: rate_next_due
-- The earliest time a rate-limited job of one queue pattern may start: its run_at,
-- or later, when its fullest window frees.
SELECT min(max(j.run_at, coalesce((
    SELECT max(w.full_until) FROM json_each(j.rate_limits) AS l
    JOIN activejob_rate_windows AS w
      ON w.rate_key = json_extract(l.value, '$.key') AND w.per = json_extract(l.value, '$.per')
), 0)))
FROM activejob_jobs AS j
WHERE j.rate_limits IS NOT NULL AND j.state IN ('ready', 'scheduled')
  AND (:kind = 'any' OR (:kind = 'exact' AND j.queue_name = :queue)
       OR (:kind = 'prefix' AND substr(j.queue_name, 1, length(:queue)) = :queue))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: rate_held_until
-- For the jobs :ids (JSON array of storage ids) still waiting: when their fullest
-- window frees, if it is full now.
SELECT j.id, max(w.full_until) FROM activejob_jobs AS j, json_each(j.rate_limits) AS l
JOIN activejob_rate_windows AS w
  ON w.rate_key = json_extract(l.value, '$.key') AND w.per = json_extract(l.value, '$.per')
WHERE j.id IN (SELECT value FROM json_each(:ids)) AND j.state IN ('ready', 'scheduled')
  AND w.full_until > :now
GROUP BY j.id;

-- name: rate_windows_prune
-- Logs whose every start left the window hold nothing: forget them.
DELETE FROM activejob_rate_windows WHERE touched_at + per < :now;

-- Counts and pages for the dashboard and the CLI, each on an index
-- (0009_dashboard_indexes.sql), never a scan of the table: see storage/sql/browse.py.
-- Each names the term queue_name <> '' (true of every job), which those indexes
-- require: no other statement (a claim) can use them.

-- name: state_queue_counts
-- The queues with jobs in one state (a skip scan: one index probe a queue), and
-- how many each has, counted up to :cap (at most :cap index entries read).
WITH RECURSIVE names(name) AS (
    SELECT min(queue_name) FROM activejob_jobs WHERE queue_name <> '' AND state = :state
    UNION ALL
    SELECT (SELECT min(j.queue_name) FROM activejob_jobs AS j
            WHERE j.queue_name <> '' AND j.state = :state AND j.queue_name > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name,
       coalesce((SELECT :cap FROM activejob_jobs AS j
                 WHERE j.queue_name <> '' AND j.state = :state AND j.queue_name = names.name
                 ORDER BY j.id LIMIT 1 OFFSET :skip),
                (SELECT count(*) FROM activejob_jobs AS j
                 WHERE j.queue_name <> '' AND j.state = :state AND j.queue_name = names.name))
FROM names WHERE name IS NOT NULL;

-- name: queue_pending_details
-- One queue's scheduled jobs that are due (listed as ready) and not yet due, each
-- counted up to :cap, and the run_at of its oldest ready job and of its oldest due one.
SELECT coalesce((SELECT :cap FROM activejob_jobs
                 WHERE queue_name <> '' AND state = 'scheduled' AND queue_name = :queue_name AND run_at <= :now
                 ORDER BY run_at LIMIT 1 OFFSET :skip),
                (SELECT count(*) FROM activejob_jobs
                 WHERE queue_name <> '' AND state = 'scheduled' AND queue_name = :queue_name AND run_at <= :now)),
       coalesce((SELECT :cap FROM activejob_jobs
                 WHERE queue_name <> '' AND state = 'scheduled' AND queue_name = :queue_name AND run_at > :now
                 ORDER BY run_at LIMIT 1 OFFSET :skip),
                (SELECT count(*) FROM activejob_jobs
                 WHERE queue_name <> '' AND state = 'scheduled' AND queue_name = :queue_name AND run_at > :now)),
       (SELECT min(run_at) FROM activejob_jobs WHERE queue_name <> '' AND state = 'ready' AND queue_name = :queue_name),
       (SELECT min(run_at) FROM activejob_jobs
        WHERE queue_name <> '' AND state = 'scheduled' AND queue_name = :queue_name AND run_at <= :now);

-- name: browse_jobs
-- A page of jobs, newest first, older than the cursor :before. The window is the
-- newest :scan jobs in the state (and queue), read on an index; the other filters
-- are applied within it (as the column hit), so no page reads more than :scan
-- rows. The first columns say where the window ended (its lowest id) and how many
-- it held; a window without a match still answers that one row. A due scheduled
-- job is listed as ready (:with_due adds them to a ready or unfiltered listing).
-- SQLite plans a statement before its parameters are bound, so "(:state IS NULL
-- OR state = :state)" would read the whole table: each combination of state and
-- queue has a query of its own (browse_jobs_by_state, _by_queue, _any), and the
-- cursor is a bound, never NULL (coalesce), so the index seeks to it.
-- This one: a state and a queue.
WITH window_rows AS (
    SELECT id,
           CASE WHEN (:job_class IS NULL OR job_class = :job_class)
           AND (:error_class IS NULL OR error_class = :error_class)
           AND (:created_after IS NULL OR created_at >= :created_after)
           AND (:created_before IS NULL OR created_at < :created_before)
           AND (:text IS NULL OR instr(payload, :text) > 0)
           THEN 1 ELSE 0 END AS hit
    FROM (
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE queue_name <> '' AND state = :state
              AND NOT (state = 'scheduled' AND run_at <= :now)
              AND queue_name = :queue_name
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
        UNION ALL
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE :with_due
              AND state = 'scheduled'
              AND run_at <= :now
              AND queue_name = :queue_name
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
    )
    ORDER BY id DESC LIMIT :scan
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT :limit
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       j.created_at, j.run_at, j.started_at, j.finished_at, j.worker_id, j.heartbeat_at,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN matched AS m ON 1
LEFT JOIN activejob_jobs AS j ON j.id = m.id
ORDER BY j.id DESC;

-- name: browse_jobs_by_state
-- browse_jobs for a state, any queue.
WITH window_rows AS (
    SELECT id,
           CASE WHEN (:job_class IS NULL OR job_class = :job_class)
           AND (:error_class IS NULL OR error_class = :error_class)
           AND (:created_after IS NULL OR created_at >= :created_after)
           AND (:created_before IS NULL OR created_at < :created_before)
           AND (:text IS NULL OR instr(payload, :text) > 0)
           THEN 1 ELSE 0 END AS hit
    FROM (
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE queue_name <> '' AND state = :state
              AND NOT (state = 'scheduled' AND run_at <= :now)
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
        UNION ALL
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE :with_due
              AND state = 'scheduled'
              AND run_at <= :now
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
    )
    ORDER BY id DESC LIMIT :scan
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT :limit
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       j.created_at, j.run_at, j.started_at, j.finished_at, j.worker_id, j.heartbeat_at,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN matched AS m ON 1
LEFT JOIN activejob_jobs AS j ON j.id = m.id
ORDER BY j.id DESC;

-- name: browse_jobs_by_queue
-- browse_jobs for a queue, any state.
WITH window_rows AS (
    SELECT id,
           CASE WHEN (:job_class IS NULL OR job_class = :job_class)
           AND (:error_class IS NULL OR error_class = :error_class)
           AND (:created_after IS NULL OR created_at >= :created_after)
           AND (:created_before IS NULL OR created_at < :created_before)
           AND (:text IS NULL OR instr(payload, :text) > 0)
           THEN 1 ELSE 0 END AS hit
    FROM (
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE queue_name <> '' AND NOT (state = 'scheduled' AND run_at <= :now)
              AND queue_name = :queue_name
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
        UNION ALL
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE :with_due
              AND state = 'scheduled'
              AND run_at <= :now
              AND queue_name = :queue_name
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
    )
    ORDER BY id DESC LIMIT :scan
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT :limit
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       j.created_at, j.run_at, j.started_at, j.finished_at, j.worker_id, j.heartbeat_at,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN matched AS m ON 1
LEFT JOIN activejob_jobs AS j ON j.id = m.id
ORDER BY j.id DESC;

-- name: browse_jobs_any
-- browse_jobs for any state and queue.
WITH window_rows AS (
    SELECT id,
           CASE WHEN (:job_class IS NULL OR job_class = :job_class)
           AND (:error_class IS NULL OR error_class = :error_class)
           AND (:created_after IS NULL OR created_at >= :created_after)
           AND (:created_before IS NULL OR created_at < :created_before)
           AND (:text IS NULL OR instr(payload, :text) > 0)
           THEN 1 ELSE 0 END AS hit
    FROM (
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE queue_name <> '' AND NOT (state = 'scheduled' AND run_at <= :now)
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
        UNION ALL
        SELECT * FROM (
            SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
            WHERE :with_due
              AND state = 'scheduled'
              AND run_at <= :now
              AND id < coalesce(:before, 9223372036854775807)
            ORDER BY id DESC LIMIT :scan)
    )
    ORDER BY id DESC LIMIT :scan
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT :limit
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       j.created_at, j.run_at, j.started_at, j.finished_at, j.worker_id, j.heartbeat_at,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN matched AS m ON 1
LEFT JOIN activejob_jobs AS j ON j.id = m.id
ORDER BY j.id DESC;

-- name: finished_per_minute
-- Jobs finished since :since, by minute and state (the finished-jobs index).
SELECT CAST((finished_at - :since) / 60 AS INTEGER), state, count(*)
FROM activejob_jobs
WHERE state IN ('succeeded', 'failed', 'discarded') AND finished_at >= :since
GROUP BY 1, 2;

-- name: run_scheduled_now
-- An operator's "run now": a scheduled job becomes ready at once.
UPDATE activejob_jobs SET state = 'ready', run_at = :now
WHERE job_id = :job_id AND state = 'scheduled';

-- name: running_queue_counts
-- Running jobs by queue: few, read on the running-jobs index (the dashboard's
-- indexes leave them out).
SELECT queue_name, count(*) FROM activejob_jobs WHERE state = 'running' GROUP BY queue_name;

-- flow: concurrency (limits_concurrency; storage/sql/concurrency.py) -----------------

-- name: set_job_concurrency
UPDATE activejob_jobs SET concurrency = :concurrency WHERE id = :id;

-- name: count_slots
SELECT count(*) FROM activejob_concurrency_slots
WHERE concurrency_key = :key AND expires_at > :now;

-- name: take_slot
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
VALUES (:key, :id, :expires_at)
ON CONFLICT (concurrency_key, job_ref) DO UPDATE SET expires_at = excluded.expires_at;

-- name: block_job
UPDATE activejob_jobs SET state = 'blocked', blocked_by = :key WHERE id = :id;

-- name: discard_job
UPDATE activejob_jobs
SET state = 'discarded', blocked_by = :key, finished_at = :now,
    error_class = :error_class, error_message = :error_message, error_traceback = ''
WHERE id = :id;

-- name: unblock_job
UPDATE activejob_jobs SET state = 'ready', blocked_by = NULL WHERE id = :id;

-- name: blocked_candidates
-- The next blocked jobs of a key whose time has come: priority, then first enqueued.
SELECT id, job_id, concurrency FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by = :key AND run_at <= :now
ORDER BY priority, id
LIMIT :limit;

-- name: park_rescheduled
-- A limited job scheduled to run again waits blocked (no slot) until its time.
UPDATE activejob_jobs
SET state = 'blocked', blocked_by = json_extract(concurrency, '$[0].key')
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'scheduled'
  AND concurrency IS NOT NULL;

-- name: free_slots
-- The slots of these jobs, unless they still hold them (ready or running again).
DELETE FROM activejob_concurrency_slots
WHERE job_ref IN (SELECT value FROM json_each(:ids))
  AND job_ref NOT IN (SELECT id FROM activejob_jobs
                      WHERE id IN (SELECT value FROM json_each(:ids))
                        AND state IN ('ready', 'running'))
RETURNING concurrency_key;

-- name: park_retried
-- Limited jobs retried by an operator (ready at :now, no slot) wait blocked.
UPDATE activejob_jobs
SET state = 'blocked', blocked_by = json_extract(concurrency, '$[0].key')
WHERE state = 'ready' AND run_at = :now AND concurrency IS NOT NULL
  AND id NOT IN (SELECT job_ref FROM activejob_concurrency_slots)
RETURNING blocked_by;

-- name: expire_slots
-- Slots past their duration, and slots of jobs that no longer hold them.
DELETE FROM activejob_concurrency_slots
WHERE expires_at <= :now
   OR NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = job_ref AND j.state IN ('ready', 'running'))
RETURNING concurrency_key;

-- name: blocked_keys
SELECT DISTINCT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND run_at <= :now
LIMIT :limit;

-- name: take_free_slots
-- For each key of :keys (a JSON array), its first due blocked jobs, by priority
-- then id, that are limited by that key alone take the key's free slots, up to
-- the first job limited by several keys (those go one by one, in order, from
-- Python). The jobs that took a slot are then made ready by ready_slot_holders.
WITH candidates AS (
    SELECT k.value AS key, j.id AS id,
           json_array_length(j.concurrency) AS limits,
           json_extract(j.concurrency, '$[0].limit') AS lim,
           json_extract(j.concurrency, '$[0].duration') AS duration,
           row_number() OVER (PARTITION BY k.value ORDER BY j.priority, j.id) AS rn,
           (SELECT count(*) FROM activejob_concurrency_slots AS s
            WHERE s.concurrency_key = k.value AND s.expires_at > :now) AS held
    -- CROSS JOIN keeps the keys outside: each key's few candidates by rowid.
    FROM json_each(:keys) AS k
    CROSS JOIN activejob_jobs AS j ON j.id IN (
        SELECT b.id FROM activejob_jobs AS b
        WHERE b.state = 'blocked' AND b.blocked_by = k.value AND b.run_at <= :now
        ORDER BY b.priority, b.id LIMIT :limit)
),
ranked AS (
    SELECT *, min(CASE WHEN limits <> 1 THEN rn END) OVER (PARTITION BY key) AS first_stacked
    FROM candidates
)
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
SELECT key, id, :now + duration FROM ranked
WHERE limits = 1 AND rn <= lim - held AND (first_stacked IS NULL OR rn < first_stacked)
ON CONFLICT (concurrency_key, job_ref) DO UPDATE SET expires_at = excluded.expires_at
RETURNING concurrency_key;

-- name: ready_slot_holders
-- Blocked jobs of :keys that now hold their slot (take_free_slots) become ready.
UPDATE activejob_jobs SET state = 'ready', blocked_by = NULL
WHERE state = 'blocked' AND blocked_by IN (SELECT value FROM json_each(:keys))
  AND EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s
              WHERE s.job_ref = activejob_jobs.id AND s.concurrency_key = activejob_jobs.blocked_by)
RETURNING job_id;

-- name: keys_with_stacked_waiters
-- Keys of :keys with a job limited by several keys among their next due blocked jobs.
SELECT DISTINCT k.value
FROM json_each(:keys) AS k
CROSS JOIN activejob_jobs AS j ON j.id IN (
    SELECT b.id FROM activejob_jobs AS b
    WHERE b.state = 'blocked' AND b.blocked_by = k.value AND b.run_at <= :now
    ORDER BY b.priority, b.id LIMIT :limit)
WHERE json_array_length(j.concurrency) > 1;

-- flow: concurrency, for the dashboard's blocked page (storage/sql/browse.py) ----------
-- Each names the term state = 'blocked' as a literal, so activejob_jobs_blocked
-- (partial: WHERE state = 'blocked') serves it.

-- name: next_blocked_key
-- The first key after :after that blocked jobs wait for: one seek on activejob_jobs_blocked.
SELECT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by > :after
ORDER BY blocked_by LIMIT 1;

-- name: blocked_key_details
-- One key's blocked jobs counted up to :cap, the limits of the first of them (which
-- name the key's slot count), and its live slots.
SELECT (SELECT count(*) FROM (SELECT 1 FROM activejob_jobs
                              WHERE state = 'blocked' AND blocked_by = :key LIMIT :cap)),
       (SELECT concurrency FROM activejob_jobs
        WHERE state = 'blocked' AND blocked_by = :key
        ORDER BY blocked_by, priority, id LIMIT 1),
       (SELECT count(*) FROM activejob_concurrency_slots
        WHERE concurrency_key = :key AND expires_at > :now);

-- name: key_holders
-- The jobs holding a live slot of one key (on the slots' primary key), first taken first.
SELECT j.job_id FROM activejob_concurrency_slots AS s
JOIN activejob_jobs AS j ON j.id = s.job_ref
WHERE s.concurrency_key = :key AND s.expires_at > :now
ORDER BY s.job_ref LIMIT :limit;
