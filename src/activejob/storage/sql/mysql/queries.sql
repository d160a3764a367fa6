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
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            rate_limits)
VALUES (%(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s, %(state)s, %(payload)s,
        %(run_at)s, %(now)s, %(rate_limits)s);

-- name: insert_jobs
-- One statement: its ids are consecutive (innodb_autoinc_lock_mode 0 or 1 holds
-- the table's AUTO-INC lock to the statement's end) and follow the array's order.
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            rate_limits)
SELECT r.job_id, r.job_class, r.queue_name, r.priority,
       CASE WHEN coalesce(r.run_at, %(now)s) > %(now)s THEN 'scheduled' ELSE 'ready' END,
       r.payload, coalesce(r.run_at, %(now)s), %(now)s, r.rate_limits
FROM JSON_TABLE(%(jobs)s, '$[*]' COLUMNS (
    ord        FOR ORDINALITY,
    job_id     VARCHAR(255)  PATH '$.job_id',
    job_class  VARCHAR(1000) PATH '$.job_class',
    queue_name VARCHAR(255)  PATH '$.queue_name',
    priority   INT           PATH '$.priority',
    run_at     DOUBLE        PATH '$.run_at',
    payload    LONGTEXT      PATH '$.payload',
    rate_limits LONGTEXT     PATH '$.rate_limits'
)) AS r
ORDER BY r.ord;

-- name: pick_any
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND run_at <= %(now)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (claimed by the rate_* queries)
ORDER BY priority, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: pick_exact
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND queue_name = %(queue)s AND run_at <= %(now)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (claimed by the rate_* queries)
ORDER BY priority, run_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: pick_prefix
SELECT id, job_id, queue_name, payload, LEAST(attempts, 2147483646) + 1, priority, run_at, job_class
FROM activejob_jobs
WHERE pending = 1 AND run_at <= %(now)s
  AND left(queue_name, char_length(%(queue)s)) = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (claimed by the rate_* queries)
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
WHERE pending = 1 AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_exact
SELECT min(run_at) FROM activejob_jobs
WHERE pending = 1 AND queue_name = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

-- name: next_due_prefix
SELECT min(run_at) FROM activejob_jobs
WHERE pending = 1 AND left(queue_name, char_length(%(queue)s)) = %(queue)s
  AND queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND rate_limits IS NULL  -- flow: rate limits (see rate_next_due);

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

-- name: succeed_jobs
-- complete_jobs for plain successes, the common case: a JSON array of [id, attempts]
-- pairs whose jobs only become succeeded (no payload, time, queue or error changes).
UPDATE JSON_TABLE(%(results)s, '$[*]' COLUMNS (
    id       BIGINT PATH '$[0]',
    attempts INT    PATH '$[1]'
)) AS r
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = r.id
SET j.state = 'succeeded', j.finished_at = %(now)s
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
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
FROM activejob_jobs WHERE job_id = %(job_id)s ORDER BY id DESC LIMIT 1;

-- name: list_jobs
-- A scheduled job whose run_at has come is listed (and filtered) as ready.
SELECT id, job_id, job_class, queue_name, priority, state, attempts, payload,
       created_at, run_at, started_at, finished_at, worker_id, heartbeat_at,
       error_class, error_message, error_traceback, crashes,
       return_value,
       unique_key, unique_until, unique_expires_at, unique_lock, -- flow: unique
       blocked_by -- flow: concurrency
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

-- name: store_return_values
-- results: return values (django.tasks). The JSON text each succeeded job returned,
-- written just before complete_jobs in the same transaction, on rows still running
-- under the claim the result answers (so a stale result writes nothing).
UPDATE JSON_TABLE(%(results)s, '$[*]' COLUMNS (
    id           BIGINT   PATH '$.id',
    attempts     INT      PATH '$.attempts',
    return_value LONGTEXT PATH '$.return_value'
)) AS r
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = r.id
SET j.return_value = r.return_value
WHERE j.state = 'running' AND (r.attempts IS NULL OR j.attempts = r.attempts);
-- flow: cancellation ---------------------------------------------------------------

-- name: cancel_find
-- Locked, so a claim (SKIP LOCKED) cannot take the job between this look and the change.
SELECT id, state, attempts FROM activejob_jobs WHERE job_id = %(job_id)s
ORDER BY id DESC LIMIT 1 FOR UPDATE;

-- name: cancel_discard
-- A waiting job is discarded at once ('blocked' is a waiting state of flow control).
UPDATE activejob_jobs
SET state = 'discarded', finished_at = %(now)s, error_class = %(error_class)s,
    error_message = %(error_message)s, error_traceback = %(error_traceback)s
WHERE id = %(id)s AND state IN ('scheduled', 'ready', 'blocked');

-- name: cancel_request
UPDATE activejob_jobs SET cancel_attempts = attempts WHERE id = %(id)s AND state = 'running';

-- name: cancel_requests
SELECT id FROM activejob_jobs
WHERE state = 'running' AND worker_id = %(worker_id)s AND cancel_attempts = attempts;

-- name: cancel_pending
-- Which of these jobs (a JSON array of ids) run and were asked to stop in this claim.
SELECT id FROM activejob_jobs
WHERE id IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS i) AND state = 'running' AND cancel_attempts = attempts;

-- name: discard_cancelled
-- Jobs handed back unrun (recovery, a drain, a retry) during the claim a cancel was
-- asked in: discarded, never run again.
UPDATE activejob_jobs
SET state = 'discarded', finished_at = %(now)s, worker_id = NULL, heartbeat_at = NULL,
    error_class = %(error_class)s, error_message = %(error_message)s,
    error_traceback = %(error_traceback)s
WHERE cancel_attempts IS NOT NULL AND cancel_attempts = attempts
  AND state IN ('ready', 'scheduled');
-- flow: unique ------------------------------------------------------------------
-- A job holds its unique key (activejob.flow.unique.holds_key): until a `within`
-- key expires; else, for until = 'finished', while it waits, runs or waits for a
-- retry; for until = 'started', while it waits and was never claimed.

-- name: insert_unique_job
-- No row stored (rowcount 0) when another job's unique_lock has this key.
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at, created_at,
                            unique_key, unique_lock, unique_until, unique_expires_at,
                            rate_limits)
VALUES (%(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s, %(state)s, %(payload)s,
        %(run_at)s, %(now)s, %(unique_key)s, %(unique_lock)s, %(unique_until)s,
        %(unique_expires_at)s, %(rate_limits)s)
ON DUPLICATE KEY UPDATE id = id;

-- name: release_unique_lock
UPDATE activejob_jobs SET unique_lock = NULL
WHERE unique_lock = %(unique_lock)s
  AND NOT CASE
      WHEN unique_expires_at IS NOT NULL THEN unique_expires_at > %(now)s
      WHEN unique_until = 'finished' THEN state IN ('scheduled', 'ready', 'blocked', 'running')
      ELSE state IN ('scheduled', 'ready', 'blocked') AND attempts = 0
  END;

-- name: unique_holder
SELECT id, job_id, state, attempts FROM activejob_jobs WHERE unique_lock = %(unique_lock)s;

-- name: replace_unique_job
-- The waiting holder takes the new job's payload (with its own job_id), run time,
-- queue and priority; a blocked one stays blocked.
UPDATE activejob_jobs
SET payload = %(payload)s, queue_name = %(queue_name)s, priority = %(priority)s,
    state = CASE WHEN state = 'blocked' THEN state ELSE %(state)s END,
    run_at = %(run_at)s
WHERE id = %(id)s AND unique_lock = %(unique_lock)s
  AND state IN ('scheduled', 'ready', 'blocked') AND attempts = 0;

-- flow: rate limits ------------------------------------------------------------------
-- A job's limits are a JSON array of {"key", "limit", "per"} (flow.rate); the log of
-- each (key, per) is one activejob_rate_windows row. The kind parameter is 'any',
-- 'exact' or 'prefix', as the pick_* queries' patterns.

-- name: rate_candidates
-- Due rate-limited jobs of one queue pattern, in claim order, locked, but none whose
-- window is known to be full now (so a backlog of one key never hides the others).
SELECT j.id, j.rate_limits, j.job_id FROM activejob_jobs AS j
WHERE j.rate_pending = 1 AND j.run_at <= %(now)s
  AND (%(kind)s = 'any' OR (%(kind)s = 'exact' AND j.queue_name = %(queue)s)
       OR (%(kind)s = 'prefix' AND left(j.queue_name, char_length(%(queue)s)) = %(queue)s))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues)
  AND NOT EXISTS (
      SELECT 1 FROM JSON_TABLE(j.rate_limits, '$[*]' COLUMNS (
          rate_key VARCHAR(255) PATH '$.key', per DOUBLE PATH '$.per')) AS l
      JOIN activejob_rate_windows AS w ON w.rate_key = l.rate_key AND w.per = l.per
      WHERE w.full_until > %(now)s)
ORDER BY j.priority, j.run_at, j.id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: rate_windows_create
-- The logs of the buckets parameter (a JSON array of [key, per]), created empty when
-- new. ON DUPLICATE KEY UPDATE (not INSERT IGNORE) locks an existing row exclusively
-- at once: a shared lock upgraded by the next query would deadlock two claims.
INSERT INTO activejob_rate_windows (rate_key, per, starts, touched_at)
SELECT b.rate_key, b.per, '[]', %(now)s
FROM JSON_TABLE(%(buckets)s, '$[*]' COLUMNS (
    rate_key VARCHAR(255) PATH '$[0]', per DOUBLE PATH '$[1]')) AS b
ORDER BY b.rate_key, b.per
ON DUPLICATE KEY UPDATE rate_key = activejob_rate_windows.rate_key;

-- name: rate_windows_lock
-- Those logs, locked (in key order, so two claims never deadlock) until the claim commits.
SELECT w.rate_key, w.per, w.starts
FROM JSON_TABLE(%(buckets)s, '$[*]' COLUMNS (
    rate_key VARCHAR(255) PATH '$[0]', per DOUBLE PATH '$[1]')) AS b
STRAIGHT_JOIN activejob_rate_windows AS w FORCE INDEX (PRIMARY)
  ON w.rate_key = b.rate_key AND w.per = b.per
ORDER BY w.rate_key, w.per
FOR UPDATE;

-- name: rate_pick
-- The admitted jobs (ids in a JSON array), as pick_* returns them; rate_candidates
-- locked them in this transaction.
SELECT j.id, j.job_id, j.queue_name, j.payload, LEAST(j.attempts, 2147483646) + 1, j.priority,
       j.run_at, j.job_class
FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS picked
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = picked.id
WHERE j.pending = 1;

-- name: rate_windows_save
UPDATE JSON_TABLE(%(windows)s, '$[*]' COLUMNS (
    rate_key   VARCHAR(255) PATH '$.key',
    per        DOUBLE       PATH '$.per',
    starts     LONGTEXT     PATH '$.starts',
    full_until DOUBLE       PATH '$.full_until'
)) AS r
STRAIGHT_JOIN activejob_rate_windows AS w FORCE INDEX (PRIMARY)
  ON w.rate_key = r.rate_key AND w.per = r.per
SET w.starts = r.starts, w.full_until = r.full_until, w.touched_at = %(now)s;

-- name: rate_next_due
-- The earliest time a rate-limited job of one queue pattern may start: its run_at,
-- or later, when its fullest window frees.
SELECT min(GREATEST(j.run_at, coalesce((
    SELECT max(w.full_until) FROM JSON_TABLE(j.rate_limits, '$[*]' COLUMNS (
        rate_key VARCHAR(255) PATH '$.key', per DOUBLE PATH '$.per')) AS l
    JOIN activejob_rate_windows AS w ON w.rate_key = l.rate_key AND w.per = l.per
), 0)))
FROM activejob_jobs AS j
WHERE j.rate_pending = 1
  AND (%(kind)s = 'any' OR (%(kind)s = 'exact' AND j.queue_name = %(queue)s)
       OR (%(kind)s = 'prefix' AND left(j.queue_name, char_length(%(queue)s)) = %(queue)s))
  AND j.queue_name NOT IN (SELECT queue_name FROM activejob_paused_queues);

-- name: rate_held_until
-- For the jobs of the ids parameter (JSON array of storage ids) still waiting: when
-- their fullest window frees, if it is full now.
SELECT j.id, max(w.full_until)
FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS picked
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = picked.id
JOIN JSON_TABLE(j.rate_limits, '$[*]' COLUMNS (
    rate_key VARCHAR(255) PATH '$.key', per DOUBLE PATH '$.per')) AS l
JOIN activejob_rate_windows AS w ON w.rate_key = l.rate_key AND w.per = l.per
WHERE j.rate_pending = 1 AND w.full_until > %(now)s
GROUP BY j.id;

-- name: rate_windows_prune
-- Logs whose every start left the window hold nothing: forget them.
DELETE FROM activejob_rate_windows WHERE touched_at + per < %(now)s;

-- Counts and pages for the dashboard and the CLI, each on an index
-- (0008_dashboard_indexes.sql), never a scan of the table: see storage/sql/browse.py.

-- name: queue_pending_details
-- One queue's scheduled jobs that are due (listed as ready) and not yet due, each
-- counted up to %(cap)s, and the run_at of its oldest ready job and of its oldest due one.
SELECT coalesce((SELECT %(cap)s FROM activejob_jobs
                 WHERE state = 'scheduled' AND queue_name = %(queue_name)s AND run_at <= %(now)s
                 ORDER BY run_at LIMIT %(skip)s, 1),
                (SELECT count(*) FROM activejob_jobs
                 WHERE state = 'scheduled' AND queue_name = %(queue_name)s AND run_at <= %(now)s)),
       coalesce((SELECT %(cap)s FROM activejob_jobs
                 WHERE state = 'scheduled' AND queue_name = %(queue_name)s AND run_at > %(now)s
                 ORDER BY run_at LIMIT %(skip)s, 1),
                (SELECT count(*) FROM activejob_jobs
                 WHERE state = 'scheduled' AND queue_name = %(queue_name)s AND run_at > %(now)s)),
       (SELECT min(run_at) FROM activejob_jobs WHERE state = 'ready' AND queue_name = %(queue_name)s),
       (SELECT min(run_at) FROM activejob_jobs
        WHERE state = 'scheduled' AND queue_name = %(queue_name)s AND run_at <= %(now)s);

-- name: browse_jobs
-- A page of jobs, newest first, older than the cursor %(before)s. The window is the
-- newest %(scan)s jobs in the state (and queue), read on an index; the other
-- filters are applied within it (as the column hit, computed in each part, so no
-- LONGTEXT payload goes into a temporary table: MariaDB would put it on disk), so
-- no page reads more than %(scan)s rows. The first columns say where the window ended (its lowest id)
-- and how many it held; a window without a match still answers that one row. A
-- due scheduled job is listed as ready (%(with_due)s adds them to a ready or
-- unfiltered listing).
WITH window_rows AS (
    SELECT id, hit
    FROM (
        (SELECT id, CASE WHEN (%(job_class)s IS NULL OR job_class = %(job_class)s)
                   AND (%(error_class)s IS NULL OR error_class = %(error_class)s)
                   AND (%(created_after)s IS NULL OR created_at >= %(created_after)s)
                   AND (%(created_before)s IS NULL OR created_at < %(created_before)s)
                   AND (%(text)s IS NULL OR LOCATE(%(text)s, payload) > 0)
                   THEN 1 ELSE 0 END AS hit
         FROM activejob_jobs
         WHERE (%(state)s IS NULL OR state = %(state)s)
           AND NOT (state = 'scheduled' AND run_at <= %(now)s)
           AND (%(queue_name)s IS NULL OR queue_name = %(queue_name)s)
           AND (%(before)s IS NULL OR id < %(before)s)
         ORDER BY id DESC LIMIT %(scan)s)
        UNION ALL
        (SELECT id, CASE WHEN (%(job_class)s IS NULL OR job_class = %(job_class)s)
                   AND (%(error_class)s IS NULL OR error_class = %(error_class)s)
                   AND (%(created_after)s IS NULL OR created_at >= %(created_after)s)
                   AND (%(created_before)s IS NULL OR created_at < %(created_before)s)
                   AND (%(text)s IS NULL OR LOCATE(%(text)s, payload) > 0)
                   THEN 1 ELSE 0 END AS hit
         FROM activejob_jobs
         WHERE %(with_due)s AND state = 'scheduled' AND run_at <= %(now)s
           AND (%(queue_name)s IS NULL OR queue_name = %(queue_name)s)
           AND (%(before)s IS NULL OR id < %(before)s)
         ORDER BY id DESC LIMIT %(scan)s)
    ) AS both_parts
    ORDER BY id DESC LIMIT %(scan)s
),
matched AS (
    SELECT id FROM window_rows WHERE hit = 1 ORDER BY id DESC LIMIT %(limit)s
)
SELECT w.lowest, w.scanned,
       j.id, j.job_id, j.job_class, j.queue_name, j.priority, j.state, j.attempts, j.payload,
       j.created_at, j.run_at, j.started_at, j.finished_at, j.worker_id, j.heartbeat_at,
       j.error_class, j.error_message, j.error_traceback, j.crashes,
       j.return_value,
       j.unique_key, j.unique_until, j.unique_expires_at, j.unique_lock, -- flow: unique
       j.blocked_by -- flow: concurrency
FROM (SELECT min(id) AS lowest, count(*) AS scanned FROM window_rows) AS w
LEFT JOIN matched AS m ON TRUE
LEFT JOIN activejob_jobs AS j ON j.id = m.id
ORDER BY j.id DESC;

-- name: finished_per_minute
-- Jobs finished since %(since)s, by minute and state (the finished-jobs index).
SELECT FLOOR((finished_at - %(since)s) / 60), state, count(*)
FROM activejob_jobs
WHERE state IN ('succeeded', 'failed', 'discarded') AND finished_at >= %(since)s
GROUP BY 1, 2;

-- name: run_scheduled_now
-- An operator's "run now": a scheduled job becomes ready at once.
UPDATE activejob_jobs SET state = 'ready', run_at = %(now)s
WHERE job_id = %(job_id)s AND state = 'scheduled';

-- name: running_queue_counts
-- Running jobs by queue: few, read on the (state, worker_id) index.
SELECT queue_name, count(*) FROM activejob_jobs WHERE state = 'running' GROUP BY queue_name;

-- name: next_queue_in_state
-- The first queue after %(after)s with jobs in %(state)s: a seek on
-- activejob_jobs_state_queue. MariaDB reads a whole state for the same step inside
-- a recursive query (state_queue_counts on the other dialects), so the storage
-- walks the queues with this, one seek a queue.
SELECT queue_name FROM activejob_jobs
WHERE state = %(state)s AND queue_name > %(after)s
ORDER BY queue_name LIMIT 1;

-- name: count_in_state_queue
-- One queue's jobs in one state, counted up to %(cap)s.
SELECT coalesce((SELECT %(cap)s FROM activejob_jobs
                 WHERE state = %(state)s AND queue_name = %(queue_name)s
                 ORDER BY id LIMIT %(skip)s, 1),
                (SELECT count(*) FROM activejob_jobs
                 WHERE state = %(state)s AND queue_name = %(queue_name)s));

-- flow: concurrency (limits_concurrency; storage/sql/concurrency.py) -----------------
-- No RETURNING here: what the other dialects return, a *_select query reads first
-- (locking the rows), then the *_apply query changes them.

-- name: lock_concurrency_key
-- Locks the key's row (made on first use) until the transaction ends.
INSERT INTO activejob_concurrency_keys (concurrency_key) VALUES (%(key)s)
ON DUPLICATE KEY UPDATE concurrency_key = concurrency_key;

-- name: prune_concurrency_keys
-- Key rows nothing holds or waits for: forget them (a key's row is only a lock, made
-- again on its next use; the DELETE waits for a transaction holding it). In key
-- order, as lock_concurrency_keys takes them, a batch at a time.
DELETE FROM activejob_concurrency_keys
WHERE NOT EXISTS (SELECT 1 FROM activejob_concurrency_slots AS s
                  WHERE s.concurrency_key = activejob_concurrency_keys.concurrency_key)
  AND NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.state = 'blocked'
                    AND j.blocked_by = activejob_concurrency_keys.concurrency_key)
ORDER BY concurrency_key
LIMIT %(batch)s;

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
-- The slots of these jobs, unless they still hold them (ready or running again), locked.
SELECT s.concurrency_key, s.job_ref FROM activejob_concurrency_slots AS s
WHERE s.job_ref IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS i)
  AND NOT EXISTS (SELECT 1 FROM activejob_jobs AS j
                  WHERE j.id = s.job_ref AND j.state IN ('ready', 'running'))
FOR UPDATE;

-- name: free_slots_apply
-- The slots the select locked (%(rows)s: [[key, job_ref], ...]), by primary key.
DELETE s FROM activejob_concurrency_slots AS s
JOIN JSON_TABLE(%(rows)s, '$[*]' COLUMNS (
    k VARCHAR(255) PATH '$[0]', id BIGINT PATH '$[1]'
)) AS t ON s.concurrency_key = t.k AND s.job_ref = t.id;

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

-- name: free_slot_line
-- For each key of %(keys)s (a JSON array), its line of due blocked jobs, by priority
-- then id, walked as ConcurrencyOps.unblock walks it, job by job: a job limited by
-- that key alone takes a slot if fewer than its own limit are held (counting the
-- slots taken before it), up to %(limit)s jobs; the walk stops at the first job that
-- cannot, or at a job limited by several keys, whose key is returned as 'stacked'
-- (Python hands such a job on, in order). Returns ('take', key, id, job_id,
-- duration) and ('stacked', key, id, job_id, duration). MariaDB has no LATERAL, so
-- the line is walked by a recursive query, each step one seek on
-- activejob_jobs_blocked (which holds run_at) for the job after the last one: the
-- statement reads the rows of the jobs it takes and of the one it stops at, however
-- long the line. Not a locking read: the keys are locked (lock_concurrency_keys),
-- and ready_slot_takers re-checks each job as it locks it.
WITH RECURSIVE line (k, rn, held, id, priority, job_id, limits, took, duration) AS (
    SELECT f.k, CAST(1 AS SIGNED), f.held, b.id, b.priority, b.job_id,
           JSON_LENGTH(b.concurrency),
           JSON_LENGTH(b.concurrency) = 1
               AND 1 <= CAST(JSON_EXTRACT(b.concurrency, '$[0].limit') AS SIGNED) - f.held,
           CAST(JSON_EXTRACT(b.concurrency, '$[0].duration') AS DOUBLE)
    FROM (SELECT keys_.k,
                 (SELECT count(*) FROM activejob_concurrency_slots AS s
                  WHERE s.concurrency_key = keys_.k AND s.expires_at > %(now)s) AS held,
                 (SELECT n.id FROM activejob_jobs AS n
                  WHERE n.state = 'blocked' AND n.blocked_by = keys_.k AND n.run_at <= %(now)s
                  ORDER BY n.priority, n.id LIMIT 1) AS first_id
          FROM JSON_TABLE(%(keys)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$')) AS keys_) AS f
    JOIN activejob_jobs AS b ON b.id = f.first_id
    UNION ALL
    SELECT line.k, line.rn + 1, line.held, b.id, b.priority, b.job_id,
           JSON_LENGTH(b.concurrency),
           JSON_LENGTH(b.concurrency) = 1
               AND line.rn + 1 <= CAST(JSON_EXTRACT(b.concurrency, '$[0].limit') AS SIGNED) - line.held,
           CAST(JSON_EXTRACT(b.concurrency, '$[0].duration') AS DOUBLE)
    FROM line
    JOIN activejob_jobs AS b ON b.id = (
        SELECT n.id FROM activejob_jobs AS n
        WHERE n.state = 'blocked' AND n.blocked_by = line.k AND n.run_at <= %(now)s
          AND (n.priority > line.priority OR (n.priority = line.priority AND n.id > line.id))
        ORDER BY n.priority, n.id LIMIT 1)
    WHERE line.took AND line.rn < %(limit)s
)
SELECT CASE WHEN took THEN 'take' ELSE 'stacked' END, k, id, job_id, duration
FROM line
WHERE took OR limits <> 1;

-- name: ready_slot_takers
-- The jobs free_slot_line chose (%(rows)s: [[key, id], ...]) become ready, by id; a
-- job no longer blocked by that key (discarded since) is left alone: the row count
-- says whether all of them were readied.
UPDATE JSON_TABLE(%(rows)s, '$[*]' COLUMNS (k VARCHAR(255) PATH '$[0]', id BIGINT PATH '$[1]')) AS t
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = t.id
SET j.state = 'ready', j.blocked_by = NULL
WHERE j.state = 'blocked' AND j.blocked_by = t.k;

-- name: readied_slot_takers
-- Of %(rows)s ([[key, id], ...]), the jobs ready_slot_takers readied (locked by it:
-- ready, blocked by nothing), when it readied fewer than all.
SELECT j.id FROM JSON_TABLE(%(rows)s, '$[*]' COLUMNS (id BIGINT PATH '$[1]')) AS t
STRAIGHT_JOIN activejob_jobs AS j FORCE INDEX (PRIMARY) ON j.id = t.id
WHERE j.state = 'ready' AND j.blocked_by IS NULL;

-- name: take_slots
-- Slots for the jobs just readied (%(rows)s: [[key, id, duration], ...]).
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
SELECT t.k, t.id, %(now)s + t.duration
FROM JSON_TABLE(%(rows)s, '$[*]' COLUMNS (
    k VARCHAR(255) PATH '$[0]', id BIGINT PATH '$[1]', duration DOUBLE PATH '$[2]'
)) AS t
ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at);

-- flow: concurrency, for the dashboard's blocked page (storage/sql/browse.py) ----------

-- name: next_blocked_key
-- The first key after %(after)s that blocked jobs wait for: one seek on
-- activejob_jobs_blocked (state, blocked_by, priority, id).
SELECT blocked_by FROM activejob_jobs
WHERE state = 'blocked' AND blocked_by > %(after)s
ORDER BY blocked_by LIMIT 1;

-- name: blocked_key_details
-- One key's blocked jobs counted up to %(cap)s (as count_in_state_queue counts), the
-- limits of the first of them (which name the key's slot count), and its live slots.
SELECT coalesce((SELECT %(cap)s FROM activejob_jobs
                 WHERE state = 'blocked' AND blocked_by = %(key)s
                 ORDER BY priority, id LIMIT %(skip)s, 1),
                (SELECT count(*) FROM activejob_jobs
                 WHERE state = 'blocked' AND blocked_by = %(key)s)),
       (SELECT concurrency FROM activejob_jobs
        WHERE state = 'blocked' AND blocked_by = %(key)s
        ORDER BY priority, id LIMIT 1),
       (SELECT count(*) FROM activejob_concurrency_slots
        WHERE concurrency_key = %(key)s AND expires_at > %(now)s);

-- name: key_holders
-- The jobs holding a live slot of one key (on the slots' primary key), first taken first.
SELECT j.job_id FROM activejob_concurrency_slots AS s
JOIN activejob_jobs AS j ON j.id = s.job_ref
WHERE s.concurrency_key = %(key)s AND s.expires_at > %(now)s
ORDER BY s.job_ref LIMIT %(limit)s;
