-- Keep the return values of succeeded jobs (results: return values, django.tasks).
-- Run just before `complete`, in the same MULTI/EXEC, so a job is recorded
-- succeeded with its value or not at all.
-- ARGV: prefix, now, then per job: sid, attempts ('' for any claim), the value's
-- JSON text. Only a job still running under that claim is written.
local written = 0
for i = 3, #ARGV, 3 do
  local key = job_key(ARGV[i])
  local h = redis.call('HMGET', key, 'state', 'attempts')
  if h[1] == 'running' and (ARGV[i + 1] == '' or h[2] == ARGV[i + 1]) then
    redis.call('HSET', key, 'return_value', ARGV[i + 2])
    written = written + 1
  end
end
return written
