-- Release the jobs of one worker known to be dead, and forget that worker. A crash
-- is counted only on the jobs it had started; the others go back unharmed.
-- ARGV: prefix, now, worker_id, max_crashes, the error to record on a job failed as
-- poison (error_class, and its message as the text before and after the crash
-- count), then the sids of the started jobs.
-- Returns {released, failed}.
local wid, max_crashes = ARGV[3], tonumber(ARGV[4])
local started = {}
for _, sid in ipairs(argv_from(8)) do started[sid] = true end
local rkey = running_key(wid)
local released, failed = 0, 0
for _, sid in ipairs(redis.call('SMEMBERS', rkey)) do
  local key = job_key(sid)
  local h = redis.call('HMGET', key, 'state', 'queue', 'worker', 'priority', 'run_at')
  if h[1] == 'running' and h[3] == wid then
    local crashes = 0
    if started[sid] then crashes = redis.call('HINCRBY', key, 'crashes', 1) end
    if crashes > max_crashes then
      set_error(sid, ARGV[5], ARGV[6] .. crashes .. ARGV[7], '')
      finish(sid, 'running', h[2], 'failed')
      failed = failed + 1
    else
      requeue(sid, h[2], h[4], h[5])
      released = released + 1
    end
  end
end
redis.call('DEL', rkey, P .. 'worker:' .. wid)
redis.call('ZREM', P .. 'workers', wid)
return {released, failed}
