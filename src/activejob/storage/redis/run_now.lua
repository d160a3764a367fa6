-- Make scheduled jobs ready now (an operator's "run now"): their run_at becomes the
-- caller's clock; every other state is left alone.
-- ARGV: prefix, now, then sids. Returns how many were made ready.
local count = 0
for i = 3, #ARGV do
  local sid = ARGV[i]
  local key = job_key(sid)
  local h = redis.call('HMGET', key, 'state', 'queue', 'priority')
  if h[1] == 'scheduled' then
    redis.call('ZREM', P .. 'scheduled', sid)
    redis.call('HSET', key, 'state', 'ready', 'run_at', NOW)
    reindex(sid, h[1], h[2], 'ready', h[2])
    make_ready(sid, h[2], h[3], NOW)
    notify(h[2])
    count = count + 1
  end
end
return count
