-- Discard jobs that wait (ready, scheduled or blocked) or failed; running, succeeded and discarded
-- ones are left alone.
-- ARGV: prefix, now, then sids. Returns how many were discarded.
local count = 0
for i = 3, #ARGV do
  local sid = ARGV[i]
  local h = redis.call('HMGET', job_key(sid), 'state', 'queue', 'priority', 'blocked_by',
    'concurrency')
  if h[1] == 'ready' or h[1] == 'scheduled' or h[1] == 'failed' or h[1] == 'blocked' then
    unqueue(sid, h[1], h[2], h[3])
    finish(sid, h[1], h[2], 'discarded')
    -- flow: concurrency — out of its key's line, or its slots handed on
    if h[1] == 'blocked' then
      redis.call('ZREM', P .. 'blocked:' .. (h[4] or ''), sid)
      redis.call('ZREM', P .. 'scheduled', sid)
    elseif h[1] == 'ready' then
      cc_release(sid, h[5], {})
    end
    count = count + 1
  end
end
return count
