-- Record how claimed jobs ended.
-- ARGV: prefix, now, n_succeeded, then per succeeded job: sid, attempts; then per
-- other result:
--   sid, attempts, state, error_class, error_message, error_traceback, payload,
--   run_at, queue, priority
-- ('' for a field that does not apply). `attempts` is the claim's attempts count:
-- a result for a job that is no longer running, or running under a later claim
-- (recovered and claimed again), is ignored, so a batch may be sent twice.
-- state is succeeded, failed, discarded, scheduled (a retry: payload, run_at and
-- optionally queue/priority replace the job's) or ready (released unrun).
-- Returns how many results were applied, and the job ids that freed slots made ready.
local FIELDS = 10
local n_ok = tonumber(ARGV[3])
local applied = 0

-- The job's fields if this result applies to it (it is still running under this
-- claim), after taking it out of its worker's set (deferred with `d`); else nil.
local function take(sid, attempts, d)
  local h = redis.call('HMGET', job_key(sid), 'state', 'queue', 'worker', 'priority', 'run_at',
    'attempts', 'concurrency')
  if h[1] ~= 'running' or (attempts ~= '' and h[6] ~= attempts) then return nil end
  if d then
    defer(d, 'SREM', running_key(h[3]), sid)
  else
    redis.call('SREM', running_key(h[3]), sid)
  end
  applied = applied + 1
  return h
end

-- Succeeded jobs, the bulk of every batch: their set and index writes are deferred.
local d = {}
local unblocked = {}  -- flow: concurrency: job ids made ready by freed slots
local freed = {}
for i = 4, 3 + 2 * n_ok, 2 do
  local h = take(ARGV[i], ARGV[i + 1], d)
  if h then
    finish(ARGV[i], 'running', h[2], 'succeeded', d)
    if h[7] then freed[#freed + 1] = {ARGV[i], h[7]} end
  end
end
flush(d)
local dd = {}  -- flow: concurrency: the unblocked jobs' index writes, deferred too
for _, f in ipairs(freed) do cc_release(f[1], f[2], unblocked, dd) end
cc_newest_first(dd)
flush(dd)

for r = 4 + 2 * n_ok, #ARGV, FIELDS do
  local sid, state = ARGV[r], ARGV[r + 2]
  local h = take(sid, ARGV[r + 1])
  if h then
    set_error(sid, ARGV[r + 3], ARGV[r + 4], ARGV[r + 5])
    if state == 'ready' then
      requeue(sid, h[2], h[4], h[5], unblocked)
    elseif state == 'scheduled' and cancelled(sid) then
      -- flow: cancellation. A retry of a job asked to stop during this claim: discarded.
      finish(sid, 'running', h[2], 'discarded')
      cc_release(sid, h[7], unblocked)  -- flow: concurrency
    elseif state == 'scheduled' then
      cc_release(sid, h[7], unblocked)  -- flow: concurrency
      local queue = ARGV[r + 8] ~= '' and ARGV[r + 8] or h[2]
      local prio = ARGV[r + 9] ~= '' and ARGV[r + 9] or h[4]
      local run_at = ARGV[r + 7] ~= '' and ARGV[r + 7] or NOW
      local to = enqueue(sid, queue, prio, run_at)
      local key = job_key(sid)
      redis.call('HSET', key, 'state', to, 'queue', queue, 'priority', prio, 'run_at', run_at)
      if ARGV[r + 6] ~= '' then redis.call('HSET', key, 'payload', ARGV[r + 6]) end
      redis.call('HDEL', key, 'worker')
      reindex(sid, 'running', h[2], to, queue)
      redis.call('SADD', P .. 'queues', queue)
      notify(queue)
      -- flow: concurrency — a limited job waits blocked for its time, then its slots
      local limits = cc_limits(h[7])
      if limits then
        if to == 'ready' then
          redis.call('ZREM', ready_key(queue, prio), sid)
          cc_dispatch(sid, limits, 'ready', queue, prio, run_at, false)
        else
          redis.call('ZREM', P .. 'scheduled', sid)
          cc_park(sid, limits, 'scheduled', queue, run_at)
        end
      end
    else
      finish(sid, 'running', h[2], state)
      cc_release(sid, h[7], unblocked)  -- flow: concurrency
    end
  end
end
return {applied, unblocked}
