-- Discard jobs that wait (ready or scheduled) or failed; running, succeeded and discarded
-- ones are left alone.
-- ARGV: prefix, now, then sids. Returns how many were discarded.
local count = 0
for i = 3, #ARGV do
  local sid = ARGV[i]
  local h = redis.call('HMGET', job_key(sid), 'state', 'queue', 'priority')
  if h[1] == 'ready' or h[1] == 'scheduled' or h[1] == 'failed' then
    unqueue(sid, h[1], h[2], h[3])
    finish(sid, h[1], h[2], 'discarded')
    count = count + 1
  end
end
return count
