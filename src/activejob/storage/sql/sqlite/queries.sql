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
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
VALUES (
    :job_id, :job_class, :queue_name, :priority,
    CASE WHEN coalesce(:run_at, :now) > :now THEN 'scheduled' ELSE 'ready' END,
    :payload, coalesce(:run_at, :now), :now
)
RETURNING id;

-- name: insert_jobs
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
SELECT
    json_extract(value, '$.job_id'), json_extract(value, '$.job_class'),
    json_extract(value, '$.queue_name'), json_extract(value, '$.priority'),
    CASE WHEN coalesce(json_extract(value, '$.run_at'), :now) > :now THEN 'scheduled' ELSE 'ready' END,
    json_extract(value, '$.payload'), coalesce(json_extract(value, '$.run_at'), :now), :now
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
    ORDER BY priority, run_at, id
    LIMIT :limit
)
RETURNING id, job_id, queue_name, payload, attempts, priority, run_at, job_class;

-- name: next_due_any
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled')
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_exact
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND queue_name = :queue
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_prefix
SELECT min(run_at) FROM activejob_jobs
WHERE state IN ('ready', 'scheduled') AND substr(queue_name, 1, length(:queue)) = :queue
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

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
       error_class, error_message, error_traceback, crashes, blocked_by
FROM activejob_jobs WHERE job_id = :job_id ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes, blocked_by
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
