-- Store one run of a recurring task, once: the run's key is set only if absent
-- (SET NX), and the job is stored in the same script, so however many schedulers
-- race for a run exactly one stores its job. The job passes push's gates: a unique
-- key another job holds stores nothing (the run still counts), a limited job takes
-- its slots or waits blocked (or is discarded), a rate-limited one keeps its limits.
-- ARGV: prefix, now, task_key, run_at (whole seconds), ttl (seconds the run's key
--   is kept), then the job: job_id, job_class, queue, priority, run_at ('' = now), payload,
--   rate limits ('' = none), concurrency ('' = none), then, for a unique job, lock,
--   key, until, within ('' = none), on_conflict (flow: unique; all '' otherwise)
-- Returns {'stored', sid, ''}, {'duplicate' or 'replaced', the holder's sid, its
-- job_id}, or false when the run was stored already.
local key, run_at, ttl = ARGV[3], ARGV[4], ARGV[5]
local job_id, class, queue, prio = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local job_run_at, payload, rate, concurrency = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local lock, ukey, hold_until, within, on_conflict = ARGV[14], ARGV[15], ARGV[16], ARGV[17],
  ARGV[18]
if not redis.call('SET', P .. 'recurring:run:' .. key .. ':' .. run_at, job_id, 'NX', 'EX', ttl) then
  return false
end
local last = redis.call('HGET', P .. 'recurring:last', key)
if not last or tonumber(last) < tonumber(run_at) then
  redis.call('HSET', P .. 'recurring:last', key, run_at)
end
if lock and lock ~= '' then  -- flow: unique
  local holder, h = unique_holder(lock)
  if h and h[5] ~= job_id and unique_holds(h) then
    local waiting = h[1] == 'scheduled' or h[1] == 'ready' or h[1] == 'blocked'
    if on_conflict == 'replace' and waiting and tonumber(h[2] or '0') == 0 then
      unique_replace(holder, h, job_id, queue, prio, job_run_at, payload)
      return {'replaced', holder, h[5]}
    end
    return {'duplicate', holder, h[5]}
  end
end
local sid = string.format('%016d', redis.call('INCR', P .. 'seq'))
insert_job(sid, job_id, class, queue, prio, job_run_at, payload, {})
if rate and rate ~= '' then redis.call('HSET', job_key(sid), 'rate', rate) end  -- flow: rate limits
cc_insert(sid, concurrency or '', queue, prio)  -- flow: concurrency
if lock and lock ~= '' then unique_take(sid, lock, ukey, hold_until, within) end
return {'stored', sid, ''}
