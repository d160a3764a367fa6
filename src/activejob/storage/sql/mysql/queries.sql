-- Named queries for MariaDB >= 10.6 and MySQL >= 8.0 (mysqlclient's %(name)s
-- parameters; a literal percent sign would be written %%). Timestamps are epoch
-- seconds computed by Python (activejob._time.now). Batches travel as one JSON
-- parameter read with JSON_TABLE. An UPDATE joins it first (STRAIGHT_JOIN) and
-- looks rows up by primary key (FORCE INDEX): a small table would otherwise be
-- scanned, and a scan waits on every row another claim has locked. There is no UPDATE ... RETURNING here: a claim is
-- a locking SELECT and an UPDATE in one short transaction, and statements that
-- must report what they did are split so that their row counts say it.
-- Single-table UPDATEs assign left to right (a later SET sees an earlier one's
-- new value), so a column other assignments read is assigned last.

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS activejob_migrations (
    version    INT          NOT NULL PRIMARY KEY,
    name       VARCHAR(255) NOT NULL,
    applied_at DOUBLE       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- name: lock_schema
SELECT GET_LOCK('activejob_migrations', %(timeout)s);

-- name: unlock_schema
SELECT RELEASE_LOCK('activejob_migrations');

-- name: migrations_table_exists
SELECT count(*) FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_name = 'activejob_migrations';

-- name: schema_version
SELECT coalesce(max(version), 0) FROM activejob_migrations;

-- name: record_migration
INSERT INTO activejob_migrations (version, name, applied_at) VALUES (%(version)s, %(name)s, %(now)s);

-- name: server_info
SELECT VERSION(), @@innodb_autoinc_lock_mode, @@auto_increment_increment;

-- name: insert_job
-- state and run_at come computed: plain values are the cheapest statement for the
-- server to parse (a single enqueue is one of these, and a commit, per job).
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
VALUES (%(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s, %(state)s, %(payload)s,
        %(run_at)s, %(now)s);

-- name: insert_jobs
-- One statement: its ids are consecutive (innodb_autoinc_lock_mode 0 or 1 holds
-- the table's AUTO-INC lock to the statement's end) and follow the array's order.
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
SELECT r.job_id, r.job_class, r.queue_name, r.priority,
       CASE WHEN coalesce(r.run_at, %(now)s) > %(now)s THEN 'scheduled' ELSE 'ready' END,
       r.payload, coalesce(r.run_at, %(now)s), %(now)s
FROM JSON_TABLE(%(jobs)s, '$[*]' COLUMNS (
    ord        FOR ORDINALITY,
    job_id     VARCHAR(255)  PATH '$.job_id',
    job_class  VARCHAR(1000) PATH '$.job_class',
    queue_name VARCHAR(255)  PATH '$.queue_name',
    priority   INT           PATH '$.priority',
    run_at     DOUBLE        PATH '$.run_at',
    payload    LONGTEXT      PATH '$.payload'
)) AS r
ORDER BY r.ord;

-- name: pick_any
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND run_at <= %(now)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
ORDER BY priority, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: pick_exact
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND queue_name = %(queue)s AND run_at <= %(now)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
ORDER BY priority, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: pick_prefix
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND run_at <= %(now)s
  AND left(queue_name, char_length(%(queue)s)) = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
ORDER BY priority, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: mark_running
-- The rows pick_* locked in this transaction (ids in a JSON array).
UPDATE JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS picked
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = picked.id
SET j.state = 'running', j.attempts = LEAST(j.attempts, 2147483646) + 1, j.worker_id = %(worker_id)s,
    j.started_at = %(now)s, j.heartbeat_at = %(now)s;

-- name: next_due_any
SELECT min(run_at) FROM activejob_jobs
WHERE pending = 1 AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_exact
SELECT min(run_at) FROM activejob_jobs
WHERE pending = 1 AND queue_name = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: next_due_prefix
SELECT min(run_at) FROM activejob_jobs
WHERE pending = 1 AND left(queue_name, char_length(%(queue)s)) = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: complete_jobs
-- One statement for a whole batch of results. Only rows still running (and, when
-- the result names its claim, still on that claim) change. A multiple-table UPDATE
-- (each SET reads r or its own column only, so the order does not matter).
UPDATE JSON_TABLE(%(results)s, '$[*]' COLUMNS (
    id              BIGINT        PATH '$.id',
    state           VARCHAR(16)   PATH '$.state',
    payload         LONGTEXT      PATH '$.payload',
    run_at          DOUBLE        PATH '$.run_at',
    queue_name      VARCHAR(255)  PATH '$.queue_name',
    priority        INT           PATH '$.priority',
    attempts        INT           PATH '$.attempts',
    error_class     VARCHAR(1000) PATH '$.error_class',
    error_message   LONGTEXT      PATH '$.error_message',
    error_traceback LONGTEXT      PATH '$.error_traceback'
)) AS r
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = r.id
SET j.state = r.state,
    j.finished_at = CASE WHEN r.state IN ('succeeded', 'failed', 'discarded') THEN %(now)s END,
    j.worker_id = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.worker_id END,
    j.heartbeat_at = CASE WHEN r.state IN ('ready', 'scheduled') THEN NULL ELSE j.heartbeat_at END,
    j.payload = coalesce(r.payload, j.payload),
    j.run_at = coalesce(r.run_at, j.run_at),
    j.queue_name = coalesce(r.queue_name, j.queue_name),
    j.priority = coalesce(r.priority, j.priority),
    j.error_class = coalesce(r.error_class, j.error_class),
    j.error_message = coalesce(r.error_message, j.error_message),
    j.error_traceback = coalesce(r.error_traceback, j.error_traceback)
WHERE j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);

-- name: upsert_worker
INSERT INTO activejob_workers (id, info, started_at, heartbeat_at)
VALUES (%(worker_id)s, %(info)s, %(now)s, %(now)s)
ON DUPLICATE KEY UPDATE heartbeat_at = %(now)s, info = coalesce(%(info)s, info);

-- name: heartbeat_jobs
UPDATE activejob_jobs SET heartbeat_at = %(now)s
WHERE state = 'running' AND worker_id = %(worker_id)s;

-- name: delete_worker
DELETE FROM activejob_workers WHERE id = %(worker_id)s;

-- name: fail_stale_jobs
-- Running rows whose worker went quiet and that have crashed their worker more
-- than max_crashes times: failed, with the crash as their error (crashes last).
UPDATE activejob_jobs
SET state = 'failed', finished_at = %(now)s, error_class = %(error_class)s,
    error_message = %(error_message)s, error_traceback = %(error_traceback)s,
    crashes = crashes + 1
WHERE state = 'running' AND heartbeat_at < %(cutoff)s AND crashes >= %(max_crashes)s;

-- name: release_stale_jobs
-- The other running rows whose worker went quiet: back to ready, one crash more.
UPDATE activejob_jobs
SET state = 'ready', worker_id = NULL, heartbeat_at = NULL, crashes = crashes + 1
WHERE state = 'running' AND heartbeat_at < %(cutoff)s;

-- name: delete_stale_workers
DELETE FROM activejob_workers WHERE heartbeat_at < %(cutoff)s;

-- name: fail_started_jobs
-- The jobs a dead worker had started (ids in started, a JSON array), as
-- fail_stale_jobs does: failed once past max_crashes.
UPDATE JSON_TABLE(%(started)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS s
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = s.id
SET j.state = 'failed', j.finished_at = %(now)s, j.error_class = %(error_class)s,
    j.error_message = %(error_message)s, j.error_traceback = %(error_traceback)s,
    j.crashes = j.crashes + 1
WHERE j.state = 'running' AND j.worker_id = %(worker_id)s AND j.crashes >= %(max_crashes)s;

-- name: release_started_jobs
-- The dead worker's other started jobs: back to ready, one crash more.
UPDATE JSON_TABLE(%(started)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS s
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = s.id
SET j.state = 'ready', j.worker_id = NULL, j.heartbeat_at = NULL, j.crashes = j.crashes + 1
WHERE j.state = 'running' AND j.worker_id = %(worker_id)s;

-- name: release_worker_jobs
-- The rest of a dead worker's jobs had not started: back to ready, no crash.
UPDATE activejob_jobs
SET state = 'ready', worker_id = NULL, heartbeat_at = NULL
WHERE state = 'running' AND worker_id = %(worker_id)s;

-- name: prune_jobs
DELETE FROM activejob_jobs
WHERE finished_at < %(cutoff)s AND state IN ('succeeded', 'failed', 'discarded')
ORDER BY finished_at
LIMIT %(batch)s;

-- name: get_job
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes, blocked_by
FROM activejob_jobs WHERE job_id = %(job_id)s ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes, blocked_by
FROM activejob_jobs
WHERE (%(states)s IS NULL
       OR JSON_CONTAINS(%(states)s, JSON_QUOTE(CASE WHEN state = 'scheduled' AND run_at <= %(now)s
                                                  THEN 'ready' ELSE state END)))
  AND (%(queue_name)s IS NULL OR queue_name = %(queue_name)s)
  AND (%(job_class)s IS NULL OR job_class = %(job_class)s)
  AND (%(job_ids)s IS NULL OR job_id IN (
       SELECT v.job_id FROM JSON_TABLE(%(job_ids)s, '$[*]' COLUMNS (job_id VARCHAR(255) PATH '$')) AS v))
  AND (%(job_id_pattern)s IS NULL OR job_id LIKE %(job_id_pattern)s ESCAPE '!')
ORDER BY id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: retry_jobs
UPDATE activejob_jobs
SET run_at = %(now)s, finished_at = NULL, worker_id = NULL, heartbeat_at = NULL, crashes = 0,
    state = 'ready'
WHERE state IN ('failed', 'discarded')
  AND (%(states)s IS NULL OR JSON_CONTAINS(%(states)s, JSON_QUOTE(state)))
  AND (%(queue_name)s IS NULL OR queue_name = %(queue_name)s)
  AND (%(job_class)s IS NULL OR job_class = %(job_class)s)
  AND (%(job_ids)s IS NULL OR job_id IN (
       SELECT v.job_id FROM JSON_TABLE(%(job_ids)s, '$[*]' COLUMNS (job_id VARCHAR(255) PATH '$')) AS v))
  AND (%(job_id_pattern)s IS NULL OR job_id LIKE %(job_id_pattern)s ESCAPE '!');

-- name: discard_jobs
UPDATE activejob_jobs
SET finished_at = %(now)s, state = 'discarded'
WHERE state IN ('ready', 'scheduled', 'failed', 'blocked')
  AND (%(states)s IS NULL
       OR JSON_CONTAINS(%(states)s, JSON_QUOTE(CASE WHEN state = 'scheduled' AND run_at <= %(now)s
                                                  THEN 'ready' ELSE state END)))
  AND (%(queue_name)s IS NULL OR queue_name = %(queue_name)s)
  AND (%(job_class)s IS NULL OR job_class = %(job_class)s)
  AND (%(job_ids)s IS NULL OR job_id IN (
       SELECT v.job_id FROM JSON_TABLE(%(job_ids)s, '$[*]' COLUMNS (job_id VARCHAR(255) PATH '$')) AS v))
  AND (%(job_id_pattern)s IS NULL OR job_id LIKE %(job_id_pattern)s ESCAPE '!');

-- name: pause_queue
INSERT INTO activejob_paused_queues (queue_name, paused_at) VALUES (%(queue_name)s, %(now)s)
ON DUPLICATE KEY UPDATE queue_name = queue_name;

-- name: resume_queue
DELETE FROM activejob_paused_queues WHERE queue_name = %(queue_name)s;

-- name: queue_counts
SELECT queue_name,
       CASE WHEN state = 'scheduled' AND run_at <= %(now)s THEN 'ready' ELSE state END,
       count(*)
FROM activejob_jobs GROUP BY 1, 2;

-- name: paused_queues
SELECT queue_name FROM activejob_paused_queues;

-- name: list_workers
SELECT id, info, started_at, heartbeat_at FROM activejob_workers ORDER BY heartbeat_at DESC, id;

-- name: running_jobs
SELECT worker_id, job_id FROM activejob_jobs WHERE state = 'running' ORDER BY id;


-- name: declare_recurring_task
INSERT INTO activejob_recurring_tasks
    (task_key, job_class, schedule, timezone, queue_name, priority, payload, created_at, declared_at)
VALUES (
    %(task_key)s, %(job_class)s, %(schedule)s, %(timezone)s, %(queue_name)s, %(priority)s,
    %(payload)s, %(now)s, %(now)s
)
ON DUPLICATE KEY UPDATE
    job_class = VALUES(job_class), schedule = VALUES(schedule), timezone = VALUES(timezone),
    queue_name = VALUES(queue_name), priority = VALUES(priority), payload = VALUES(payload),
    declared_at = VALUES(declared_at);

-- name: list_recurring_tasks
SELECT task_key, job_class, schedule, timezone, queue_name, priority, payload, paused,
       created_at, declared_at, last_run_at, resumed_at
FROM activejob_recurring_tasks ORDER BY task_key;

-- name: set_recurring_paused
UPDATE activejob_recurring_tasks
SET resumed_at = CASE WHEN %(paused)s THEN resumed_at ELSE %(now)s END, paused = %(paused)s
WHERE task_key = %(task_key)s;

-- name: recurring_task_exists
SELECT count(*) FROM activejob_recurring_tasks WHERE task_key = %(task_key)s;

-- name: insert_recurring_execution
-- Affects no row when the run is stored already (the assignment changes nothing).
INSERT INTO activejob_recurring_executions (task_key, run_at, job_id, created_at)
VALUES (%(task_key)s, %(run_at)s, %(job_id)s, %(now)s)
ON DUPLICATE KEY UPDATE task_key = task_key;

-- name: record_recurring_run
UPDATE activejob_recurring_tasks SET last_run_at = %(run_at)s
WHERE task_key = %(task_key)s AND (last_run_at IS NULL OR last_run_at < %(run_at)s);

-- name: prune_recurring_executions
DELETE FROM activejob_recurring_executions WHERE run_at < %(cutoff)s;


-- flow: concurrency (limits_concurrency; storage/sql/concurrency.py) -----------------
-- No RETURNING here: what the other dialects return, a *_select query reads first
-- (locking the rows), then the *_apply query changes them.

-- name: lock_concurrency_key
-- Locks the key's row (made on first use) until the transaction ends.
INSERT INTO activejob_concurrency_keys (concurrency_key) VALUES (%(key)s)
ON DUPLICATE KEY UPDATE concurrency_key = concurrency_key;

-- name: set_job_concurrency
UPDATE activejob_jobs SET concurrency = %(concurrency)s WHERE id = %(id)s;

-- name: count_slots
SELECT count(*) FROM activejob_concurrency_slots
WHERE concurrency_key = %(key)s AND expires_at > %(now)s;

-- name: take_slot
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
VALUES (%(key)s, %(id)s, %(expires_at)s)
ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at);

-- name: block_job
UPDATE activejob_jobs SET state = 'blocked', blocked_by = %(key)s WHERE id = %(id)s;

-- name: discard_job
UPDATE activejob_jobs
SET state = 'discarded', blocked_by = %(key)s, finished_at = %(now)s,
    error_class = %(error_class)s, error_message = %(error_message)s, error_traceback = ''
WHERE id = %(id)s;

-- name: unblock_job
UPDATE activejob_jobs SET state = 'ready', blocked_by = NULL WHERE id = %(id)s;

-- name: blocked_candidates
-- The next blocked jobs of a key whose time has come: priority, then first enqueued.
SELECT id, job_id, concurrency FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by = %(key)s AND run_at <= %(now)s
ORDER BY priority, id
LIMIT %(limit)s
FOR UPDATE;

-- name: park_rescheduled
-- A limited job scheduled to run again waits blocked (no slot) until its time.
UPDATE activejob_jobs
SET state = 'blocked', blocked_by = JSON_UNQUOTE(JSON_EXTRACT(concurrency, '$[0].key'))
WHERE id IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS i) AND state = 'scheduled' AND concurrency IS NOT NULL;

-- name: free_slots_select
-- The slots of these jobs, unless they still hold them (ready or running again).
SELECT s.concurrency_key FROM activejob_concurrency_slots AS s
WHERE s.job_ref IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS i)
  AND NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = s.job_ref AND j.state IN ('ready', 'running'))
FOR UPDATE;

-- name: free_slots_apply
DELETE FROM activejob_concurrency_slots
WHERE job_ref IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS i)
  AND NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = job_ref AND j.state IN ('ready', 'running'));

-- name: park_retried_select
-- Limited jobs retried by an operator (ready at :now, no slot) wait blocked.
SELECT JSON_UNQUOTE(JSON_EXTRACT(j.concurrency, '$[0].key')) FROM activejob_jobs AS j
WHERE j.pending = 1 AND j.state = 'ready' AND j.run_at = %(now)s
  AND j.concurrency IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s WHERE s.job_ref = j.id)
FOR UPDATE;

-- name: park_retried_apply
UPDATE activejob_jobs AS j
SET j.state = 'blocked', j.blocked_by = JSON_UNQUOTE(JSON_EXTRACT(j.concurrency, '$[0].key'))
WHERE j.pending = 1 AND j.state = 'ready' AND j.run_at = %(now)s
  AND j.concurrency IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s WHERE s.job_ref = j.id);

-- name: expire_slots_select
-- Slots past their duration, and slots of jobs that no longer hold them.
SELECT s.concurrency_key FROM activejob_concurrency_slots AS s
WHERE s.expires_at <= %(now)s
   OR NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = s.job_ref AND j.state IN ('ready', 'running'))
FOR UPDATE;

-- name: expire_slots_apply
DELETE FROM activejob_concurrency_slots
WHERE expires_at <= %(now)s
   OR NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = job_ref AND j.state IN ('ready', 'running'));

-- name: blocked_keys
SELECT DISTINCT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND run_at <= %(now)s
LIMIT %(limit)s;

-- name: lock_concurrency_keys
-- lock_concurrency_key for every key of a JSON array, in key order.
INSERT INTO activejob_concurrency_keys (concurrency_key)
SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_ ORDER BY k
ON DUPLICATE KEY UPDATE concurrency_key = activejob_concurrency_keys.concurrency_key;

-- name: take_free_slots_select
-- For each key of %(keys)s (a JSON array), its first due blocked jobs, by priority
-- then id, that are limited by that key alone take the key's free slots, up to the
-- first job limited by several keys (those go one by one, in order, from Python).
-- MariaDB has no LATERAL: the window reads every blocked job of these keys. The
-- keys are locked (lock_concurrency_keys), so _apply inserts the same rows.
SELECT r.k, r.id, r.duration FROM (
    SELECT c.*, MIN(CASE WHEN c.limits <> 1 THEN c.rn END) OVER (PARTITION BY c.k) AS first_stacked
    FROM (
        SELECT j.blocked_by AS k, j.id,
               JSON_LENGTH(j.concurrency) AS limits,
               CAST(JSON_EXTRACT(j.concurrency, '$[0].limit') AS SIGNED) AS lim,
               CAST(JSON_EXTRACT(j.concurrency, '$[0].duration') AS DOUBLE) AS duration,
               ROW_NUMBER() OVER (PARTITION BY j.blocked_by ORDER BY j.priority, j.id) AS rn,
               (SELECT count(*) FROM activejob_concurrency_slots AS s
                WHERE s.concurrency_key = j.blocked_by AND s.expires_at > %(now)s) AS held
        FROM activejob_jobs AS j
        WHERE j.state = 'blocked' AND j.run_at <= %(now)s
          AND j.blocked_by IN (SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_)
    ) AS c
    WHERE c.rn <= %(limit)s
) AS r
WHERE r.limits = 1 AND r.rn <= r.lim - r.held
  AND (r.first_stacked IS NULL OR r.rn < r.first_stacked);

-- name: take_free_slots_apply
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
SELECT t.k, t.id, %(now)s + t.duration FROM (SELECT r.k, r.id, r.duration FROM (
    SELECT c.*, MIN(CASE WHEN c.limits <> 1 THEN c.rn END) OVER (PARTITION BY c.k) AS first_stacked
    FROM (
        SELECT j.blocked_by AS k, j.id,
               JSON_LENGTH(j.concurrency) AS limits,
               CAST(JSON_EXTRACT(j.concurrency, '$[0].limit') AS SIGNED) AS lim,
               CAST(JSON_EXTRACT(j.concurrency, '$[0].duration') AS DOUBLE) AS duration,
               ROW_NUMBER() OVER (PARTITION BY j.blocked_by ORDER BY j.priority, j.id) AS rn,
               (SELECT count(*) FROM activejob_concurrency_slots AS s
                WHERE s.concurrency_key = j.blocked_by AND s.expires_at > %(now)s) AS held
        FROM activejob_jobs AS j
        WHERE j.state = 'blocked' AND j.run_at <= %(now)s
          AND j.blocked_by IN (SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_)
    ) AS c
    WHERE c.rn <= %(limit)s
) AS r
WHERE r.limits = 1 AND r.rn <= r.lim - r.held
  AND (r.first_stacked IS NULL OR r.rn < r.first_stacked)) AS t
ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at);

-- name: ready_slot_holders_select
SELECT j.job_id FROM activejob_jobs AS j
WHERE j.state = 'blocked' AND j.blocked_by IN (SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_)
  AND EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s
              WHERE s.job_ref = j.id AND s.concurrency_key = j.blocked_by)
FOR UPDATE;

-- name: ready_slot_holders_apply
UPDATE activejob_jobs AS j SET j.state = 'ready', j.blocked_by = NULL
WHERE j.state = 'blocked' AND j.blocked_by IN (SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_)
  AND EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s
              WHERE s.job_ref = j.id AND s.concurrency_key = j.blocked_by);

-- name: keys_with_stacked_waiters
-- Keys of %(keys)s with a due blocked job limited by several keys.
SELECT DISTINCT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by IN (SELECT k FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_)
  AND run_at <= %(now)s AND JSON_LENGTH(concurrency) > 1;
