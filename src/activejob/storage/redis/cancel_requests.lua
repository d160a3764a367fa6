-- flow: cancellation. The sids of a worker's running jobs asked to stop during
-- their current claim. ARGV: prefix, now, worker_id. Returns a list of sids.
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', running_key(ARGV[3]))) do
  local h = redis.call('HMGET', job_key(sid), 'state', 'worker', 'cancel_attempts', 'attempts')
  if h[1] == 'running' and h[2] == ARGV[3] and h[3] and h[3] == (h[4] or '0') then
    out[#out + 1] = sid
  end
end
return out
