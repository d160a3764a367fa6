-- Store new jobs.
-- ARGV: prefix, now, dedupe ('1' on a retried call), then per job:
--   job_id, job_class, queue, priority, run_at ('' = now), payload, rate limits ('' = none),
--   concurrency (the job's limits as JSON, '' for none; flow: concurrency)
-- A retried call (dedupe) skips a job whose job_id already maps to a job created at
-- this same `now`: the first attempt stored it before the connection broke.
-- A plain job (due now, no rate or concurrency limit) whose queue is not paused and
-- has nothing ready (so no older or more urgent job is passed over) goes straight to
-- an idle fetcher serving its queue, if one is registered: claimed for that worker as
-- claim.lua would, and pushed onto the list the fetcher blocks on (see idle.lua).
-- Returns the sids, in order. A batch whose jobs declare no concurrency limit runs
-- this file without the lines ending '-- flow: concurrency' (push_unlimited, scripts.py).
local FIELDS = 8
local dedupe = ARGV[3] == '1'
local n = (#ARGV - 3) / FIELDS
local last = redis.call('INCRBY', P .. 'seq', n)
local seen = {}
local sids = {}
NO_IDLERS = redis.call('EXISTS', P .. 'idle') == 0
local open = {}  -- queue -> whether a job may be handed off in it (not paused, none ready)

local function hand_off(sid, job_id, class, queue, prio, payload)
  if open[queue] == nil then
    open[queue] = redis.call('SISMEMBER', P .. 'paused', queue) == 0 and not head(queue)
  end
  if not open[queue] then return false end
  local wid = take_idler(queue)
  if not wid then return false end
  redis.call('HSET', job_key(sid), 'job_id', job_id, 'class', class, 'queue', queue,
    'priority', prio, 'state', 'running', 'payload', payload, 'created_at', NOW,
    'run_at', NOW, 'attempts', 1, 'started_at', NOW, 'worker', wid)
  redis.call('HSET', P .. 'ids', job_id, sid)
  redis.call('ZADD', idx_key('running', queue), 0, sid)
  redis.call('SADD', running_key(wid), sid)
  if not seen['h' .. queue] then
    seen['h' .. queue] = true
    redis.call('SADD', P .. 'queues', queue)
  end
  redis.call('LPUSH', P .. 'handoff:' .. wid,
    cjson.encode({sid, job_id, queue, '1', payload, prio, class}))
  return true
end

for i = 0, n - 1 do
  local b = 4 + i * FIELDS
  local job_id, class, queue, prio, run_at, payload =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local sid = string.format('%016d', last - n + 1 + i)
  local previous = dedupe and redis.call('HGET', P .. 'ids', job_id)
  if previous and redis.call('HGET', job_key(previous), 'created_at') == NOW then
    sid = previous
  elseif not (not NO_IDLERS and run_at == '' and ARGV[b + 6] == '' and ARGV[b + 7] == ''
      and hand_off(sid, job_id, class, queue, prio, payload)) then
    insert_job(sid, job_id, class, queue, prio, run_at, payload, seen)
    -- flow: rate limits
    if ARGV[b + 6] ~= '' then redis.call('HSET', job_key(sid), 'rate', ARGV[b + 6]) end
    cc_insert(sid, ARGV[b + 7], queue, prio)  -- flow: concurrency
    open[queue] = false  -- what follows it in this batch must not pass it
  end
  sids[i + 1] = sid
end
return sids
