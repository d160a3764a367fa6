-- Make failed or discarded jobs ready again, to run as soon as a worker is free.
-- Their last error stays until they run again (as SQL does); their crash count is
-- reset; attempts are kept.
-- ARGV: prefix, now, then sids. Returns how many were retried.
local count = 0
for i = 3, #ARGV do
  local sid = ARGV[i]
  local key = job_key(sid)
  local h = redis.call('HMGET', key, 'state', 'queue', 'priority', 'concurrency')
  if h[1] == 'failed' or h[1] == 'discarded' then
    redis.call('ZREM', P .. 'finished', sid)
    redis.call('ZREM', P .. 'failed_at', sid)
    redis.call('HDEL', key, 'finished_at', 'worker')
    redis.call('HSET', key, 'state', 'ready', 'run_at', NOW, 'crashes', 0)
    -- flow: concurrency — a limited job runs again only with its slots
    local limits = cc_limits(h[4])
    if limits then
      cc_dispatch(sid, limits, h[1], h[2], h[3], NOW, false)
    else
      reindex(sid, h[1], h[2], 'ready', h[2])
      make_ready(sid, h[2], h[3], NOW)
      notify(h[2])
    end
    count = count + 1
  end
end
return count
