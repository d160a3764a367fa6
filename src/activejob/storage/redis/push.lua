-- Store new jobs.
-- ARGV: prefix, now, dedupe ('1' on a retried call), then per job:
--   job_id, job_class, queue, priority, run_at ('' = now), payload, rate limits ('' = none),
--   concurrency (the job's limits as JSON, '' for none; flow: concurrency)
-- A retried call (dedupe) skips a job whose job_id already maps to a job created at
-- this same `now`: the first attempt stored it before the connection broke.
-- Returns the sids, in order.
local FIELDS = 8
local dedupe = ARGV[3] == '1'
local n = (#ARGV - 3) / FIELDS
local last = redis.call('INCRBY', P .. 'seq', n)
local seen = {}
local sids = {}
for i = 0, n - 1 do
  local b = 4 + i * FIELDS
  local job_id, class, queue, prio, run_at, payload =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local sid = string.format('%016d', last - n + 1 + i)
  local previous = dedupe and redis.call('HGET', P .. 'ids', job_id)
  if previous and redis.call('HGET', job_key(previous), 'created_at') == NOW then
    sid = previous
  else
    insert_job(sid, job_id, class, queue, prio, run_at, payload, seen)
    -- flow: rate limits
    if ARGV[b + 6] ~= '' then redis.call('HSET', job_key(sid), 'rate', ARGV[b + 6]) end
    cc_insert(sid, ARGV[b + 7], queue, prio)  -- flow: concurrency
  end
  sids[i + 1] = sid
end
return sids
