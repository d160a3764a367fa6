-- Named queries for PostgreSQL (psycopg named parameters). Timestamps travel as
-- epoch seconds computed by Python (activejob._time.now) and are converted here;
-- every statement is one round trip and, in autocommit, its own short transaction
-- (safe behind PgBouncer in transaction mode). Batches travel as one JSON parameter.

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS activejob_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL
);

-- name: lock_schema
SELECT pg_advisory_xact_lock(8122604571043306514);

-- name: migrations_table_exists
SELECT to_regclass('activejob_migrations') IS NOT NULL;

-- name: schema_version
SELECT coalesce(max(version), 0) FROM activejob_migrations;

-- name: record_migration
INSERT INTO activejob_migrations (version, name, applied_at)
VALUES (%(version)s, %(name)s, to_timestamp(%(now)s));

-- name: insert_job
-- One round trip: the NOTIFY that wakes idle workers rides in the same statement
-- (and is delivered when the transaction commits).
WITH job AS (
    INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                                rate_limits)
    VALUES (
        %(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s,
        CASE WHEN %(run_at)s::float8 > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END,
        %(payload)s, to_timestamp(coalesce(%(run_at)s::float8, %(now)s::float8)),
        to_timestamp(%(now)s::float8),
        %(rate_limits)s::jsonb
    )
    RETURNING id, queue_name
)
SELECT job.id FROM job, pg_notify('activejob', job.queue_name);

-- name: insert_jobs
-- %(jobs)s is a JSON array whose payloads are embedded as JSON (the json type keeps
-- their text as is). Ids follow the array's order; one NOTIFY per distinct queue
-- (the scalar subquery makes the notifying CTE run).
WITH jobs AS (
    INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                                rate_limits)
    SELECT r.job_id, r.job_class, r.queue_name, r.priority,
           CASE WHEN r.run_at > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END,
           r.payload::text, to_timestamp(coalesce(r.run_at, %(now)s::float8)),
           to_timestamp(%(now)s::float8),
           r.rate_limits
    FROM ROWS FROM (
        json_to_recordset(%(jobs)s::json) AS (
            job_id text, job_class text, queue_name text, priority integer, run_at float8,
            payload json, rate_limits jsonb
        )
    ) WITH ORDINALITY AS r(job_id, job_class, queue_name, priority, run_at, payload, rate_limits, ord)
    ORDER BY r.ord
    RETURNING id, queue_name
),
woken AS (
    SELECT q.queue_name
    FROM (SELECT DISTINCT queue_name FROM jobs) AS q, pg_notify('activejob', q.queue_name)
)
SELECT id FROM jobs WHERE (SELECT count(*) FROM woken) >= 0;

-- The claims commit without waiting for the WAL flush (synchronous_commit off for
-- this statement's own transaction only: nothing leaks into the session, so a
-- PgBouncer server connection is left as it was). A claim lost to a server crash
-- in that fraction of a second leaves its jobs ready, and they run again: the
-- at-least-once the worker gives anyway. Enqueues and results wait for the flush.

-- name: claim_any
WITH picked AS (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= to_timestamp(%(now)s::float8)
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE activejob_jobs AS j
SET state = 'running', attempts = LEAST(j.attempts, 2147483646) + 1, worker_id = %(worker_id)s,
    started_at = to_timestamp(%(now)s::float8), heartbeat_at = to_timestamp(%(now)s::float8)
FROM picked WHERE j.id = picked.id AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
RETURNING j.id, j.job_id, j.queue_name, j.payload, j.attempts, j.priority,
          extract(epoch FROM j.run_at)::float8, j.job_class;

-- name: claim_exact
WITH picked AS (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= to_timestamp(%(now)s::float8)
      AND queue_name = %(queue)s
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE activejob_jobs AS j
SET state = 'running', attempts = LEAST(j.attempts, 2147483646) + 1, worker_id = %(worker_id)s,
    started_at = to_timestamp(%(now)s::float8), heartbeat_at = to_timestamp(%(now)s::float8)
FROM picked WHERE j.id = picked.id AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
RETURNING j.id, j.job_id, j.queue_name, j.payload, j.attempts, j.priority,
          extract(epoch FROM j.run_at)::float8, j.job_class;

-- name: claim_prefix
WITH picked AS (
    SELECT id FROM activejob_jobs
    WHERE state IN ('ready', 'scheduled') AND run_at <= to_timestamp(%(now)s::float8)
      AND left(queue_name, length(%(queue)s::text)) = %(queue)s::text
      AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
      AND rate_limits IS NULL  -- flow: rate limits (claimed by rate_claim_jobs)
    ORDER BY priority, run_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE activejob_jobs AS j
SET state = 'running', attempts = LEAST(j.attempts, 2147483646) + 1, worker_id = %(worker_id)s,
    started_at = to_timestamp(%(now)s::float8), heartbeat_at = to_timestamp(%(now)s::float8)
FROM picked WHERE j.id = picked.id AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
RETURNING j.id, j.job_id, j.queue_name, j.payload, j.attempts, j.priority,
          extract(epoch FROM j.run_at)::float8, j.job_class;

-- name: next_due_any
SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
WHERE state IN ('ready', 'scheduled')
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_exact
SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND queue_name = %(queue)s::text
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_prefix
SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND left(queue_name, length(%(queue)s::text)) = %(queue)s::text
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: complete_jobs
-- One statement for a whole batch of results. Only rows still running (and, when
-- the result names its claim, still on that claim) change.
UPDATE activejob_jobs AS j
SET state = r.state,
    finished_at = CASE WHEN r.state IN ('succeeded', 'failed', 'discarded')
                       THEN to_timestamp(%(now)s::float8) END,
    worker_id = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.worker_id END,
    heartbeat_at = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.heartbeat_at END,
    payload = coalesce(r.payload, j.payload),
    run_at = coalesce(to_timestamp(r.run_at), j.run_at),
    queue_name = coalesce(r.queue_name, j.queue_name),
    priority = coalesce(r.priority, j.priority),
    error_class = coalesce(r.error_class, j.error_class),
    error_message = coalesce(r.error_message, j.error_message),
    error_traceback = coalesce(r.error_traceback, j.error_traceback)
FROM json_to_recordset(%(results)s::json) AS r(
    id bigint, state text, payload text, run_at float8, queue_name text, priority integer,
    attempts integer, error_class text, error_message text, error_traceback text
)
WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);

-- name: upsert_worker
INSERT INTO activejob_workers (id, info, started_at, heartbeat_at)
VALUES (%(worker_id)s, %(info)s::text, to_timestamp(%(now)s::float8), to_timestamp(%(now)s::float8))
ON CONFLICT (id) DO UPDATE
SET heartbeat_at = excluded.heartbeat_at, info = coalesce(excluded.info, activejob_workers.info);

-- name: heartbeat_jobs
UPDATE activejob_jobs SET heartbeat_at = to_timestamp(%(now)s::float8)
WHERE worker_id = %(worker_id)s AND state = 'running';

-- name: delete_worker
DELETE FROM activejob_workers WHERE id = %(worker_id)s;

-- name: recover_jobs
-- Running rows whose worker went quiet: back to ready, or failed once they have
-- crashed their worker more than max_crashes times.
UPDATE activejob_jobs
SET state = CASE WHEN crashes >= %(max_crashes)s THEN 'failed' ELSE 'ready' END,
    crashes = crashes + 1,
    finished_at = CASE WHEN crashes >= %(max_crashes)s THEN to_timestamp(%(now)s::float8) END,
    worker_id = CASE WHEN crashes >= %(max_crashes)s THEN worker_id END,
    heartbeat_at = CASE WHEN crashes >= %(max_crashes)s THEN heartbeat_at END,
    error_class = CASE WHEN crashes >= %(max_crashes)s THEN %(error_class)s ELSE error_class END,
    error_message = CASE WHEN crashes >= %(max_crashes)s THEN %(error_message)s ELSE error_message END,
    error_traceback = CASE WHEN crashes >= %(max_crashes)s THEN %(error_traceback)s
                           ELSE error_traceback END
WHERE state = 'running' AND heartbeat_at < to_timestamp(%(cutoff)s::float8)
RETURNING state;

-- name: delete_stale_workers
DELETE FROM activejob_workers WHERE heartbeat_at < to_timestamp(%(cutoff)s::float8);

-- name: prune_jobs
DELETE FROM activejob_jobs WHERE id IN (
    SELECT id FROM activejob_jobs
    WHERE state IN ('succeeded', 'failed', 'discarded')
      AND finished_at < to_timestamp(%(cutoff)s::float8)
    LIMIT %(batch)s
);

-- name: get_job
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       extract(epoch FROM created_at)::float8, extract(epoch FROM run_at)::float8,
       extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8,
       worker_id, extract(epoch FROM heartbeat_at)::float8,
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
FROM activejob_jobs WHERE job_id = %(job_id)s ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       extract(epoch FROM created_at)::float8, extract(epoch FROM run_at)::float8,
       extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8,
       worker_id, extract(epoch FROM heartbeat_at)::float8,
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
FROM activejob_jobs
WHERE (%(states)s::text[] IS NULL
       OR (CASE WHEN state = 'scheduled' AND run_at <= to_timestamp(%(now)s::float8)
                THEN 'ready' ELSE state END) = ANY (%(states)s::text[]))
  AND (%(queue_name)s::text IS NULL OR queue_name = %(queue_name)s::text)
  AND (%(job_class)s::text IS NULL OR job_class = %(job_class)s::text)
  AND (%(job_ids)s::text[] IS NULL OR job_id = ANY (%(job_ids)s::text[]))
  AND (%(job_id_pattern)s::text IS NULL OR job_id LIKE %(job_id_pattern)s::text ESCAPE '\')
ORDER BY id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: retry_jobs
UPDATE activejob_jobs
SET state = 'ready', run_at = to_timestamp(%(now)s::float8), finished_at = NULL,
    worker_id = NULL, heartbeat_at = NULL, crashes = 0
WHERE state IN ('failed', 'discarded')
  AND (%(states)s::text[] IS NULL OR state = ANY (%(states)s::text[]))
  AND (%(queue_name)s::text IS NULL OR queue_name = %(queue_name)s::text)
  AND (%(job_class)s::text IS NULL OR job_class = %(job_class)s::text)
  AND (%(job_ids)s::text[] IS NULL OR job_id = ANY (%(job_ids)s::text[]))
  AND (%(job_id_pattern)s::text IS NULL OR job_id LIKE %(job_id_pattern)s::text ESCAPE '\');

-- name: discard_jobs
UPDATE activejob_jobs
SET state = 'discarded', finished_at = to_timestamp(%(now)s::float8)
WHERE state IN ('ready', 'scheduled', 'failed', 'blocked')
  AND (%(states)s::text[] IS NULL
       OR (CASE WHEN state = 'scheduled' AND run_at <= to_timestamp(%(now)s::float8)
                THEN 'ready' ELSE state END) = ANY (%(states)s::text[]))
  AND (%(queue_name)s::text IS NULL OR queue_name = %(queue_name)s::text)
  AND (%(job_class)s::text IS NULL OR job_class = %(job_class)s::text)
  AND (%(job_ids)s::text[] IS NULL OR job_id = ANY (%(job_ids)s::text[]))
  AND (%(job_id_pattern)s::text IS NULL OR job_id LIKE %(job_id_pattern)s::text ESCAPE '\');

-- name: pause_queue
INSERT INTO activejob_paused_queues (queue_name, paused_at)
VALUES (%(queue_name)s, to_timestamp(%(now)s::float8))
ON CONFLICT (queue_name) DO NOTHING;

-- name: resume_queue
-- Wakes idle workers in every process: the queue's jobs are claimable again.
WITH resumed AS (
    DELETE FROM activejob_paused_queues WHERE queue_name = %(queue_name)s RETURNING queue_name
)
SELECT pg_notify('activejob', queue_name) FROM resumed;

-- name: queue_counts
SELECT queue_name,
       CASE WHEN state = 'scheduled' AND run_at <= to_timestamp(%(now)s::float8)
            THEN 'ready' ELSE state END,
       count(*)
FROM activejob_jobs GROUP BY 1, 2;

-- name: paused_queues
SELECT queue_name FROM activejob_paused_queues;

-- name: list_workers
SELECT id, info, extract(epoch FROM started_at)::float8, extract(epoch FROM heartbeat_at)::float8
FROM activejob_workers ORDER BY heartbeat_at DESC, id;

-- name: running_jobs
SELECT worker_id, job_id FROM activejob_jobs WHERE state = 'running' ORDER BY id;

-- name: recover_started_jobs
-- The jobs a dead worker had started (ids in started, a JSON array): as
-- recover_jobs does, one crash each, failed past max_crashes.
UPDATE activejob_jobs
SET state = CASE WHEN crashes >= %(max_crashes)s THEN 'failed' ELSE 'ready' END,
    crashes = crashes + 1,
    finished_at = CASE WHEN crashes >= %(max_crashes)s THEN to_timestamp(%(now)s::float8) END,
    worker_id = CASE WHEN crashes >= %(max_crashes)s THEN worker_id END,
    heartbeat_at = CASE WHEN crashes >= %(max_crashes)s THEN heartbeat_at END,
    error_class = CASE WHEN crashes >= %(max_crashes)s THEN %(error_class)s ELSE error_class END,
    error_message = CASE WHEN crashes >= %(max_crashes)s THEN %(error_message)s ELSE error_message END,
    error_traceback = CASE WHEN crashes >= %(max_crashes)s THEN %(error_traceback)s
                           ELSE error_traceback END
WHERE state = 'running' AND worker_id = %(worker_id)s
  AND id IN (SELECT value::bigint FROM json_array_elements_text(%(started)s::json))
RETURNING state;

-- name: release_worker_jobs
-- The rest of a dead worker's jobs had not started: back to ready, no crash.
UPDATE activejob_jobs
SET state = 'ready', worker_id = NULL, heartbeat_at = NULL
WHERE state = 'running' AND worker_id = %(worker_id)s
RETURNING state;


-- name: declare_recurring_task
INSERT INTO activejob_recurring_tasks
    (task_key, job_class, schedule, timezone, queue_name, priority, payload, created_at, declared_at)
VALUES (
    %(task_key)s, %(job_class)s, %(schedule)s, %(timezone)s, %(queue_name)s, %(priority)s,
    %(payload)s, %(now)s, %(now)s
)
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
SET paused = %(paused)s,
    resumed_at = CASE WHEN %(paused)s THEN resumed_at ELSE %(now)s::float8 END
WHERE task_key = %(task_key)s;

-- name: recurring_task_exists
SELECT count(*) FROM activejob_recurring_tasks WHERE task_key = %(task_key)s;

-- name: insert_recurring_execution
INSERT INTO activejob_recurring_executions (task_key, run_at, job_id, created_at)
VALUES (%(task_key)s, %(run_at)s, %(job_id)s, %(now)s)
ON CONFLICT (task_key, run_at) DO NOTHING;

-- name: record_recurring_run
UPDATE activejob_recurring_tasks SET last_run_at = %(run_at)s
WHERE task_key = %(task_key)s AND (last_run_at IS NULL OR last_run_at < %(run_at)s);

-- name: prune_recurring_executions
DELETE FROM activejob_recurring_executions WHERE run_at < %(cutoff)s;

-- name: store_return_values
-- results: return values (django.tasks). The JSON text each succeeded job returned,
-- written just before complete_jobs in the same transaction, on rows still running
-- under the claim the result answers (so a stale result writes nothing).
UPDATE activejob_jobs AS j
SET return_value = r.return_value
FROM json_to_recordset(%(results)s::json) AS r(id bigint, attempts integer, return_value text)
WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);
-- flow: cancellation ---------------------------------------------------------------

-- name: cancel_find
-- Locked, so a claim (SKIP LOCKED) cannot take the job between this look and the change.
SELECT id, state, attempts FROM activejob_jobs WHERE job_id = %(job_id)s
ORDER BY id DESC LIMIT 1 FOR UPDATE;

-- name: cancel_discard
-- A waiting job is discarded at once ('blocked' is a waiting state of flow control).
UPDATE activejob_jobs
SET state = 'discarded', finished_at = to_timestamp(%(now)s::float8),
    error_class = %(error_class)s, error_message = %(error_message)s,
    error_traceback = %(error_traceback)s
WHERE id = %(id)s AND state IN ('scheduled', 'ready', 'blocked');

-- name: cancel_request
UPDATE activejob_jobs SET cancel_attempts = attempts WHERE id = %(id)s AND state = 'running';

-- name: announce_cancel
-- Sent on commit: the workers' LISTEN connections hear it and look at once.
SELECT pg_notify('activejob', %(notice)s);

-- name: cancel_requests
SELECT id FROM activejob_jobs
WHERE state = 'running' AND worker_id = %(worker_id)s AND cancel_attempts = attempts;

-- name: cancel_pending
-- Which of these jobs (a JSON array of ids) run and were asked to stop in this claim.
SELECT id FROM activejob_jobs
WHERE id IN (SELECT value::bigint FROM json_array_elements_text(%(ids)s::json)) AND state = 'running' AND cancel_attempts = attempts;

-- name: discard_cancelled
-- Jobs handed back unrun (recovery, a drain, a retry) during the claim a cancel was
-- asked in: discarded, never run again.
UPDATE activejob_jobs
SET state = 'discarded', finished_at = to_timestamp(%(now)s::float8), worker_id = NULL,
    heartbeat_at = NULL, error_class = %(error_class)s, error_message = %(error_message)s,
    error_traceback = %(error_traceback)s
WHERE cancel_attempts IS NOT NULL AND cancel_attempts = attempts
  AND state IN ('ready', 'scheduled');
-- flow: unique ------------------------------------------------------------------
-- A job holds its unique key (activejob.flow.unique.holds_key): until a `within`
-- key expires; else, for until = 'finished', while it waits, runs or waits for a
-- retry; for until = 'started', while it waits and was never claimed.

-- name: insert_unique_job
-- No row back when another job's unique_lock has this key (a concurrent insert of
-- the same key waits for the other transaction, then inserts nothing).
WITH job AS (
    INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at,
                                created_at, unique_key, unique_lock, unique_until, unique_expires_at,
                                rate_limits)
    VALUES (
        %(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s,
        CASE WHEN %(run_at)s::float8 > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END,
        %(payload)s, to_timestamp(coalesce(%(run_at)s::float8, %(now)s::float8)),
        to_timestamp(%(now)s::float8),
        %(unique_key)s, %(unique_lock)s, %(unique_until)s, %(unique_expires_at)s::float8,
        %(rate_limits)s::jsonb
    )
    ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
    RETURNING id, queue_name
)
SELECT job.id FROM job, pg_notify('activejob', job.queue_name);

-- name: release_unique_lock
UPDATE activejob_jobs SET unique_lock = NULL
WHERE unique_lock = %(unique_lock)s
  AND NOT CASE
      WHEN unique_expires_at IS NOT NULL THEN unique_expires_at > %(now)s::float8
      WHEN unique_until = 'finished' THEN state IN ('scheduled', 'ready', 'blocked', 'running')
      ELSE state IN ('scheduled', 'ready', 'blocked') AND attempts = 0
  END;

-- name: unique_holder
SELECT id, job_id, state, attempts FROM activejob_jobs WHERE unique_lock = %(unique_lock)s;

-- name: replace_unique_job
-- The waiting holder takes the new job's payload (with its own job_id), run time,
-- queue and priority; a blocked one stays blocked.
WITH job AS (
    UPDATE activejob_jobs
    SET payload = %(payload)s, queue_name = %(queue_name)s, priority = %(priority)s,
        run_at = to_timestamp(coalesce(%(run_at)s::float8, %(now)s::float8)),
        state = CASE WHEN state = 'blocked' THEN state
                     WHEN %(run_at)s::float8 > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END
    WHERE id = %(id)s AND unique_lock = %(unique_lock)s
      AND state IN ('scheduled', 'ready', 'blocked') AND attempts = 0
    RETURNING id, queue_name
)
SELECT job.id FROM job, pg_notify('activejob', job.queue_name);
-- name: vacuum_due
-- The jobs table's dead row versions (the statistics' estimate, over every
-- process), and whether this role may VACUUM it (its owner's or the database
-- owner's privileges; a superuser has both). See vacuum.py.
SELECT s.n_dead_tup,
       pg_has_role(c.relowner, 'USAGE')
       OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relid = 'activejob_jobs'::regclass;

-- name: vacuum_jobs
-- The claims' dead entries at the start of the claim indexes go only with the
-- index pass, which INDEX_CLEANUP ON never skips; SKIP_LOCKED: another vacuum of
-- the table is at work already.
VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON) activejob_jobs;

-- flow: rate limits ------------------------------------------------------------------
-- A job's limits are a JSON array of {"key", "limit", "per"} (flow.rate); the log of
-- each (key, per) is one activejob_rate_windows row. The kind parameter is 'any', 'exact' or
-- 'prefix', as the claim_* queries' patterns.

-- name: rate_probe
-- Whether any rate-limited job is due: an unlimited claim then opens no transaction.
SELECT EXISTS (
    SELECT 1 FROM activejob_jobs
    WHERE rate_limits IS NOT NULL AND state IN ('ready', 'scheduled')
      AND run_at <= to_timestamp(%(now)s::float8)
);

-- name: rate_candidates
-- Due rate-limited jobs of one queue pattern, in claim order, locked, but none whose
-- window is known to be full now (so a backlog of one key never hides the others).
SELECT j.id, j.rate_limits::text, j.job_id FROM activejob_jobs AS j
WHERE j.rate_limits IS NOT NULL AND j.state IN ('ready', 'scheduled')
  AND j.run_at <= to_timestamp(%(now)s::float8)
  AND (%(kind)s::text = 'any' OR (%(kind)s::text = 'exact' AND j.queue_name = %(queue)s::text)
       OR (%(kind)s::text = 'prefix' AND left(j.queue_name, length(%(queue)s::text)) = %(queue)s::text))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(j.rate_limits) AS l
      JOIN activejob_rate_windows AS w ON w.rate_key = l->>'key' AND w.per = (l->>'per')::float8
      WHERE w.full_until > %(now)s::float8)
  -- As the claims: this transaction commits without waiting for the WAL flush.
  AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
ORDER BY j.priority, j.run_at, j.id
LIMIT %(limit)s
FOR UPDATE OF j SKIP LOCKED;

-- name: rate_windows_create
-- The logs of the buckets parameter that are new, empty (an existing one is not
-- written: DO NOTHING takes no lock and makes no row version).
INSERT INTO activejob_rate_windows (rate_key, per, touched_at)
SELECT b->>0, (b->>1)::float8, %(now)s::float8
FROM jsonb_array_elements(%(buckets)s::jsonb) AS b
ORDER BY 1, 2
ON CONFLICT (rate_key, per) DO NOTHING;

-- name: rate_windows_select
-- Those logs, locked in key order (so two claims never deadlock) until the claim commits.
SELECT w.rate_key, w.per, w.starts FROM activejob_rate_windows AS w
WHERE (w.rate_key, w.per) IN (
    SELECT b->>0, (b->>1)::float8 FROM jsonb_array_elements(%(buckets)s::jsonb) AS b)
ORDER BY w.rate_key, w.per
FOR UPDATE;

-- name: rate_claim_and_save
-- The admitted jobs (ids in a JSON array) made running, and the logs saved, in one
-- statement.
WITH saved AS (
    UPDATE activejob_rate_windows AS w
    SET starts = r.starts, full_until = r.full_until, touched_at = %(now)s::float8
    FROM jsonb_to_recordset(%(windows)s::jsonb) AS r(key text, per float8, starts text, full_until float8)
    WHERE w.rate_key = r.key AND w.per = r.per
    RETURNING 1
)
UPDATE activejob_jobs
SET state = 'running', attempts = LEAST(attempts, 2147483646) + 1, worker_id = %(worker_id)s,
    started_at = to_timestamp(%(now)s::float8), heartbeat_at = to_timestamp(%(now)s::float8)
WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text(%(ids)s::jsonb))
  AND state IN ('ready', 'scheduled') AND (SELECT count(*) FROM saved) >= 0
RETURNING id, job_id, queue_name, payload, attempts, priority,
          extract(epoch FROM run_at)::float8, job_class;

-- name: rate_next_due
-- The earliest time a rate-limited job of one queue pattern may start: its run_at,
-- or later, when its fullest window frees.
SELECT min(GREATEST(extract(epoch FROM j.run_at)::float8, coalesce((
    SELECT max(w.full_until) FROM jsonb_array_elements(j.rate_limits) AS l
    JOIN activejob_rate_windows AS w ON w.rate_key = l->>'key' AND w.per = (l->>'per')::float8
), 0)))
FROM activejob_jobs AS j
WHERE j.rate_limits IS NOT NULL AND j.state IN ('ready', 'scheduled')
  AND (%(kind)s::text = 'any' OR (%(kind)s::text = 'exact' AND j.queue_name = %(queue)s::text)
       OR (%(kind)s::text = 'prefix' AND left(j.queue_name, length(%(queue)s::text)) = %(queue)s::text))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: rate_held_until
-- For the jobs of the ids parameter (JSON array of storage ids) still waiting: when their fullest
-- window frees, if it is full now.
SELECT j.id, max(w.full_until)
FROM activejob_jobs AS j
CROSS JOIN LATERAL jsonb_array_elements(j.rate_limits) AS l
JOIN activejob_rate_windows AS w ON w.rate_key = l->>'key' AND w.per = (l->>'per')::float8
WHERE j.id IN (SELECT value::bigint FROM jsonb_array_elements_text(%(ids)s::jsonb))
  AND j.state IN ('ready', 'scheduled') AND w.full_until > %(now)s::float8
GROUP BY j.id;

-- name: rate_windows_prune
-- Logs whose every start left the window hold nothing: forget them.
DELETE FROM activejob_rate_windows WHERE touched_at + per < %(now)s::float8;

-- Counts and pages for the dashboard and the CLI, each on an index
-- (0008_dashboard_indexes.sql), never a scan of the table: see storage/sql/browse.py.

-- name: state_queue_counts
-- The queues with jobs in one state (a skip scan: one index probe a queue), and
-- how many each has, counted up to %(cap)s (at most %(cap)s index entries read).
-- Each count reads a LIMITed subquery, so the plan's cost stays small and no JIT
-- compilation (a third of a second) is started for it.
WITH RECURSIVE names(name) AS (
    SELECT min(queue_name) FROM activejob_jobs WHERE state = %(state)s::text
    UNION ALL
    SELECT (SELECT min(j.queue_name) FROM activejob_jobs AS j
            WHERE j.state = %(state)s::text AND j.queue_name > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name,
       (SELECT count(*) FROM (SELECT 1 FROM activejob_jobs AS j
                              WHERE j.state = %(state)s::text AND j.queue_name = names.name
                              LIMIT %(cap)s) AS capped)
FROM names WHERE name IS NOT NULL;

-- name: queue_pending_details
-- One queue's scheduled jobs that are due (listed as ready) and not yet due, each
-- counted up to %(cap)s, and the run_at of its oldest ready job and of its oldest due one.
SELECT (SELECT count(*) FROM (SELECT 1 FROM activejob_jobs
                              WHERE state = 'scheduled' AND queue_name = %(queue_name)s::text
                                AND run_at <= to_timestamp(%(now)s::float8)
                              LIMIT %(cap)s) AS due),
       (SELECT count(*) FROM (SELECT 1 FROM activejob_jobs
                              WHERE state = 'scheduled' AND queue_name = %(queue_name)s::text
                                AND run_at > to_timestamp(%(now)s::float8)
                              LIMIT %(cap)s) AS later),
       (SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
        WHERE state = 'ready' AND queue_name = %(queue_name)s::text),
       (SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
        WHERE state = 'scheduled' AND queue_name = %(queue_name)s::text
          AND run_at <= to_timestamp(%(now)s::float8));

-- name: browse_jobs
-- A page of jobs, newest first, older than the cursor %(before)s. The window is the
-- newest %(scan)s jobs in the state (and queue), read on an index; the other
-- filters are applied within it (as the column hit), so no page reads more than
-- %(scan)s rows. The first columns say where the window ended (its lowest id)
-- and how many it held; a window without a match still answers that one row. A
-- due scheduled job is listed as ready (%(with_due)s adds them to a ready or
-- unfiltered listing).
WITH window_rows AS (
    SELECT id,
           CASE WHEN (%(job_class)s::text IS NULL OR job_class = %(job_class)s::text)
           AND (%(error_class)s::text IS NULL OR error_class = %(error_class)s::text)
           AND (%(created_after)s::float8 IS NULL OR created_at >= to_timestamp(%(created_after)s::float8))
           AND (%(created_before)s::float8 IS NULL OR created_at < to_timestamp(%(created_before)s::float8))
           AND (%(text)s::text IS NULL OR strpos(payload, %(text)s::text) > 0)
           THEN 1 ELSE 0 END AS hit
    FROM (
        (SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
         WHERE (%(state)s::text IS NULL OR state = %(state)s::text)
           AND NOT (state = 'scheduled' AND run_at <= to_timestamp(%(now)s::float8))
           AND (%(queue_name)s::text IS NULL OR queue_name = %(queue_name)s::text)
           AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
         ORDER BY id DESC LIMIT %(scan)s)
        UNION ALL
        (SELECT id, job_class, error_class, created_at, payload FROM activejob_jobs
         WHERE %(with_due)s::boolean AND state = 'scheduled' AND run_at <= to_timestamp(%(now)s::float8)
           AND (%(queue_name)s::text IS NULL OR queue_name = %(queue_name)s::text)
           AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
         ORDER BY id DESC LIMIT %(scan)s)
    ) AS both_parts
    ORDER BY id DESC LIMIT %(scan)s
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT %(limit)s
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       extract(epoch FROM j.created_at)::float8, extract(epoch FROM j.run_at)::float8,
       extract(epoch FROM j.started_at)::float8, extract(epoch FROM j.finished_at)::float8,
       j.worker_id, extract(epoch FROM j.heartbeat_at)::float8,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN (matched AS m JOIN activejob_jobs AS j ON j.id = m.id) ON true
ORDER BY j.id DESC;

-- name: finished_per_minute
-- Jobs finished since %(since)s, by minute and state (the finished-jobs index).
SELECT floor((extract(epoch FROM finished_at) - %(since)s::float8) / 60)::integer, state, count(*)
FROM activejob_jobs
WHERE state IN ('succeeded', 'failed', 'discarded')
  AND finished_at >= to_timestamp(%(since)s::float8)
GROUP BY 1, 2;

-- name: run_scheduled_now
-- An operator's "run now": a scheduled job becomes ready at once (the requeue
-- trigger wakes the workers).
UPDATE activejob_jobs SET state = 'ready', run_at = to_timestamp(%(now)s::float8)
WHERE job_id = %(job_id)s AND state = 'scheduled';

-- name: running_queue_counts
-- Running jobs by queue: few, read on the running-jobs index (the dashboard's
-- indexes leave them out).
SELECT queue_name, count(*) FROM activejob_jobs WHERE state = 'running' GROUP BY queue_name;

-- flow: concurrency (limits_concurrency; storage/sql/concurrency.py) -----------------

-- name: lock_concurrency_key
-- Serialises the slot counts of one key until the transaction ends (a hash
-- collision only makes two keys wait for each other).
SELECT pg_advisory_xact_lock(hashtextextended(%(key)s::text, 7013));

-- name: set_job_concurrency
UPDATE activejob_jobs SET concurrency = %(concurrency)s WHERE id = %(id)s;

-- name: count_slots
SELECT count(*) FROM activejob_concurrency_slots
WHERE concurrency_key = %(key)s AND expires_at > to_timestamp(%(now)s::float8);

-- name: take_slot
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
VALUES (%(key)s, %(id)s, to_timestamp(%(expires_at)s::float8))
ON CONFLICT (concurrency_key, job_ref) DO UPDATE SET expires_at = excluded.expires_at;

-- name: block_job
UPDATE activejob_jobs SET state = 'blocked', blocked_by = %(key)s WHERE id = %(id)s;

-- name: discard_job
UPDATE activejob_jobs
SET state = 'discarded', blocked_by = %(key)s, finished_at = to_timestamp(%(now)s::float8),
    error_class = %(error_class)s, error_message = %(error_message)s, error_traceback = ''
WHERE id = %(id)s;

-- name: unblock_job
-- Back to ready: the requeue trigger NOTIFYs the idle workers on commit.
UPDATE activejob_jobs SET state = 'ready', blocked_by = NULL WHERE id = %(id)s;

-- name: blocked_candidates
-- The next blocked jobs of a key whose time has come: priority, then first enqueued.
SELECT id, job_id, concurrency FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by = %(key)s AND run_at <= to_timestamp(%(now)s::float8)
ORDER BY priority, id
LIMIT %(limit)s;

-- name: park_rescheduled
-- A limited job scheduled to run again waits blocked (no slot) until its time.
UPDATE activejob_jobs
SET state = 'blocked', blocked_by = concurrency::json -> 0 ->> 'key'
WHERE id IN (SELECT value::bigint FROM json_array_elements_text(%(ids)s::json))
  AND state = 'scheduled' AND concurrency IS NOT NULL;

-- name: free_slots
-- The slots of these jobs, unless they still hold them (ready or running again),
-- and the freed keys' locks (lock_concurrency_key), taken in key order: the next
-- statement, with a snapshot of its own, then counts their slots.
WITH freed AS (
    DELETE FROM activejob_concurrency_slots AS s
    WHERE s.job_ref IN (SELECT value::bigint FROM json_array_elements_text(%(ids)s::json))
      AND NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                      WHERE j.id = s.job_ref AND j.state IN ('ready', 'running'))
    RETURNING s.concurrency_key
)
SELECT k, pg_advisory_xact_lock(hashtextextended(k, 7013))
FROM (SELECT DISTINCT concurrency_key AS k FROM freed ORDER BY 1) AS keys;

-- name: complete_free_slots
-- complete_jobs and free_slots in one round trip, for a batch of final results only
-- (succeeded, failed, discarded: none of these jobs runs again). The CTEs see the
-- jobs as they were before this statement, so a slot is freed when its job was just
-- finished here, or was neither ready nor running already (as free_slots: a stale
-- result of a job running again elsewhere frees nothing). Then the freed keys'
-- locks, in key order, as free_slots.
WITH results AS (
    SELECT * FROM json_to_recordset(%(results)s::json) AS r(
        id bigint, state text, payload text, run_at float8, queue_name text, priority integer,
        attempts integer, error_class text, error_message text, error_traceback text
    )
),
done AS (
    UPDATE activejob_jobs AS j
    SET state = r.state,
        finished_at = to_timestamp(%(now)s::float8),
        payload = coalesce(r.payload, j.payload),
        run_at = coalesce(to_timestamp(r.run_at), j.run_at),
        queue_name = coalesce(r.queue_name, j.queue_name),
        priority = coalesce(r.priority, j.priority),
        error_class = coalesce(r.error_class, j.error_class),
        error_message = coalesce(r.error_message, j.error_message),
        error_traceback = coalesce(r.error_traceback, j.error_traceback)
    FROM results AS r
    WHERE j.id = r.id AND j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts)
    RETURNING j.id
),
freed AS (
    DELETE FROM activejob_concurrency_slots AS s
    WHERE s.job_ref IN (SELECT id FROM results)
      AND (s.job_ref IN (SELECT id FROM done)
           -- a lookup by id per slot (NOT EXISTS would hash the whole table)
           OR coalesce((SELECT j.state FROM activejob_jobs AS j WHERE j.id = s.job_ref), '')
              NOT IN ('ready', 'running'))
    RETURNING s.concurrency_key
)
SELECT k, pg_advisory_xact_lock(hashtextextended(k, 7013))
FROM (SELECT DISTINCT concurrency_key AS k FROM freed ORDER BY 1) AS keys;

-- name: park_retried
-- Limited jobs retried by an operator (ready at :now, no slot) wait blocked.
UPDATE activejob_jobs AS j
SET state = 'blocked', blocked_by = j.concurrency::json -> 0 ->> 'key'
WHERE j.state = 'ready' AND j.run_at = to_timestamp(%(now)s::float8)
  AND j.concurrency IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s WHERE s.job_ref = j.id)
RETURNING j.blocked_by;

-- name: expire_slots
-- Slots past their duration, and slots of jobs that no longer hold them.
DELETE FROM activejob_concurrency_slots AS s
WHERE s.expires_at <= to_timestamp(%(now)s::float8)
   OR NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = s.job_ref AND j.state IN ('ready', 'running'))
RETURNING s.concurrency_key;

-- name: blocked_keys
SELECT DISTINCT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND run_at <= to_timestamp(%(now)s::float8)
LIMIT %(limit)s;

-- name: lock_concurrency_keys
-- lock_concurrency_key for every key of a JSON array, in key order.
SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7013)))
FROM (SELECT k FROM json_array_elements_text(%(keys)s::json) AS k ORDER BY k) AS keys;

-- name: unblock_free_slots
-- For each key of %(keys)s (a JSON array), its first due blocked jobs, by priority
-- then id, that are limited by that key alone take the key's free slots and become
-- ready (the requeue trigger NOTIFYs the idle workers on commit), up to the first
-- job limited by several keys: such keys are returned as 'stacked', for Python to
-- hand on one job at a time, in order. Returns ('ready', job_id, key) /
-- ('stacked', key, key).
WITH candidates AS (
    SELECT k.key, j.id,
           jsonb_array_length(j.limits) AS limits,
           (j.limits -> 0 ->> 'limit')::integer AS lim,
           (j.limits -> 0 ->> 'duration')::float8 AS duration,
           row_number() OVER (PARTITION BY k.key ORDER BY j.priority, j.id) AS rn,
           h.held
    FROM json_array_elements_text(%(keys)s::json) AS k(key)
    CROSS JOIN LATERAL (  -- counted once per key, not once per candidate
        SELECT count(*) AS held FROM activejob_concurrency_slots AS s
        WHERE s.concurrency_key = k.key AND s.expires_at > to_timestamp(%(now)s::float8)
    ) AS h
    CROSS JOIN LATERAL (
        SELECT b.id, b.priority, b.concurrency::jsonb AS limits  -- parsed once
        FROM activejob_jobs AS b
        WHERE b.state = 'blocked' AND b.blocked_by = k.key
          AND b.run_at <= to_timestamp(%(now)s::float8)
        ORDER BY b.priority, b.id LIMIT %(limit)s
    ) AS j
),
ranked AS (
    SELECT *, min(CASE WHEN limits <> 1 THEN rn END) OVER (PARTITION BY key) AS first_stacked
    FROM candidates
),
taken AS (
    INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
    SELECT key, id, to_timestamp(%(now)s::float8 + duration) FROM ranked
    WHERE limits = 1 AND rn <= lim - held AND (first_stacked IS NULL OR rn < first_stacked)
    ON CONFLICT (concurrency_key, job_ref) DO UPDATE SET expires_at = excluded.expires_at
    RETURNING job_ref, concurrency_key
),
readied AS (
    UPDATE activejob_jobs AS j SET state = 'ready', blocked_by = NULL
    FROM taken WHERE j.id = taken.job_ref AND j.state = 'blocked'
    RETURNING j.job_id, taken.concurrency_key
)
SELECT 'ready', job_id, concurrency_key FROM readied
UNION ALL
SELECT DISTINCT 'stacked', key, key FROM ranked WHERE first_stacked IS NOT NULL;

-- flow: concurrency, for the dashboard's blocked page (storage/sql/browse.py) ----------

-- name: next_blocked_key
-- The first key after %(after)s that blocked jobs wait for: one seek on activejob_jobs_blocked.
SELECT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by > %(after)s::text
ORDER BY blocked_by LIMIT 1;

-- name: blocked_key_details
-- One key's blocked jobs counted up to %(cap)s (on activejob_jobs_blocked), the limits
-- of the first of them (which name the key's slot count), and its live slots.
SELECT (SELECT count(*) FROM (SELECT 1 FROM activejob_jobs
                              WHERE state = 'blocked' AND blocked_by = %(key)s::text
                              LIMIT %(cap)s) AS capped),
       (SELECT concurrency FROM activejob_jobs
        WHERE state = 'blocked' AND blocked_by = %(key)s::text
        ORDER BY blocked_by, priority, id LIMIT 1),
       (SELECT count(*) FROM activejob_concurrency_slots
        WHERE concurrency_key = %(key)s::text AND expires_at > to_timestamp(%(now)s::float8));

-- name: key_holders
-- The jobs holding a live slot of one key (on the slots' primary key), first taken first.
SELECT j.job_id FROM activejob_concurrency_slots AS s
JOIN activejob_jobs AS j ON j.id = s.job_ref
WHERE s.concurrency_key = %(key)s::text AND s.expires_at > to_timestamp(%(now)s::float8)
ORDER BY s.job_ref LIMIT %(limit)s;
