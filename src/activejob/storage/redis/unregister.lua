-- Forget a worker that stopped; jobs it still holds go back to their queues unrun.
-- ARGV: prefix, now, worker_id. Returns how many jobs were released.
local wid = ARGV[3]
local rkey = running_key(wid)
local released = 0
for _, sid in ipairs(redis.call('SMEMBERS', rkey)) do
  local h = redis.call('HMGET', job_key(sid), 'state', 'queue', 'worker', 'priority', 'run_at')
  if h[1] == 'running' and h[3] == wid then
    requeue(sid, h[2], h[4], h[5])
    released = released + 1
  end
end
forget_worker(wid)
return released
