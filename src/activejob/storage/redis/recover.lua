-- Release the jobs of workers that stopped heartbeating, and forget those workers.
-- ARGV: prefix, now, stale_before (epoch seconds), max_crashes, then the error to
-- record on a job whose workers died more than max_crashes times (failed as poison):
-- error_class, and its message as the text before and after the crash count.
-- Returns {released, failed}.
local stale_before, max_crashes = ARGV[3], tonumber(ARGV[4])
local released, failed = 0, 0
for _, wid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'workers', '-inf', stale_before)) do
  local rkey = running_key(wid)
  for _, sid in ipairs(redis.call('SMEMBERS', rkey)) do
    local key = job_key(sid)
    local h = redis.call('HMGET', key, 'state', 'queue', 'worker', 'priority', 'run_at')
    if h[1] == 'running' and h[3] == wid then
      local crashes = redis.call('HINCRBY', key, 'crashes', 1)
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
end
return {released, failed}
