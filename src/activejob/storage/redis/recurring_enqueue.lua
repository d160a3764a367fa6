-- Store one run of a recurring task, once: the run's key is set only if absent
-- (SET NX), and the job is stored in the same script, so however many schedulers
-- race for a run exactly one stores its job.
-- ARGV: prefix, now, task_key, run_at (whole seconds), ttl (seconds the run's key
--   is kept), then the job: job_id, job_class, queue, priority, run_at ('' = now), payload,
--   rate limits ('' = none)
-- Returns the job's sid, or false when the run was stored already.
local key, run_at, ttl = ARGV[3], ARGV[4], ARGV[5]
local job_id, class, queue, prio = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local job_run_at, payload = ARGV[10], ARGV[11]
if not redis.call('SET', P .. 'recurring:run:' .. key .. ':' .. run_at, job_id, 'NX', 'EX', ttl) then
  return false
end
local sid = string.format('%016d', redis.call('INCR', P .. 'seq'))
insert_job(sid, job_id, class, queue, prio, job_run_at, payload, {})
-- flow: rate limits
if ARGV[12] and ARGV[12] ~= '' then redis.call('HSET', job_key(sid), 'rate', ARGV[12]) end
local last = redis.call('HGET', P .. 'recurring:last', key)
if not last or tonumber(last) < tonumber(run_at) then
  redis.call('HSET', P .. 'recurring:last', key, run_at)
end
return sid
