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
    INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
    VALUES (
        %(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s,
        CASE WHEN %(run_at)s::float8 > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END,
        %(payload)s, to_timestamp(coalesce(%(run_at)s::float8, %(now)s::float8)),
        to_timestamp(%(now)s::float8)
    )
    RETURNING id, queue_name
)
SELECT job.id FROM job, pg_notify('activejob', job.queue_name);

-- name: insert_jobs
-- %(jobs)s is a JSON array whose payloads are embedded as JSON (the json type keeps
-- their text as is). Ids follow the array's order; one NOTIFY per distinct queue
-- (the scalar subquery makes the notifying CTE run).
WITH jobs AS (
    INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
    SELECT r.job_id, r.job_class, r.queue_name, r.priority,
           CASE WHEN r.run_at > %(now)s::float8 THEN 'scheduled' ELSE 'ready' END,
           r.payload::text, to_timestamp(coalesce(r.run_at, %(now)s::float8)),
           to_timestamp(%(now)s::float8)
    FROM ROWS FROM (
        json_to_recordset(%(jobs)s::json) AS (
            job_id text, job_class text, queue_name text, priority integer, run_at float8,
            payload json
        )
    ) WITH ORDINALITY AS r(job_id, job_class, queue_name, priority, run_at, payload, ord)
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
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_exact
SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND queue_name = %(queue)s::text
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_prefix
SELECT extract(epoch FROM min(run_at))::float8 FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND left(queue_name, length(%(queue)s::text)) = %(queue)s::text
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

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
       error_class, error_message, error_traceback, crashes, blocked_by
FROM activejob_jobs WHERE job_id = %(job_id)s ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       extract(epoch FROM created_at)::float8, extract(epoch FROM run_at)::float8,
       extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8,
       worker_id, extract(epoch FROM heartbeat_at)::float8,
       error_class, error_message, error_traceback, crashes, blocked_by
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
           json_array_length(j.concurrency::json) AS limits,
           (j.concurrency::json -> 0 ->> 'limit')::integer AS lim,
           (j.concurrency::json -> 0 ->> 'duration')::float8 AS duration,
           row_number() OVER (PARTITION BY k.key ORDER BY j.priority, j.id) AS rn,
           (SELECT count(*) FROM activejob_concurrency_slots AS s
            WHERE s.concurrency_key = k.key
              AND s.expires_at > to_timestamp(%(now)s::float8)) AS held
    FROM json_array_elements_text(%(keys)s::json) AS k(key)
    CROSS JOIN LATERAL (
        SELECT b.id, b.priority, b.concurrency FROM activejob_jobs AS b
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
