-- Delete up to `limit` finished jobs that finished at or before `cutoff`.
-- ARGV: prefix, now, cutoff, limit. Returns how many were deleted.
local due = redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', ARGV[3], 'LIMIT', 0, ARGV[4])
for _, sid in ipairs(due) do
  local key = job_key(sid)
  local h = redis.call('HMGET', key, 'state', 'queue', 'job_id', 'unique_lock')
  redis.call('ZREM', P .. 'finished', sid)
  redis.call('ZREM', P .. 'failed_at', sid)
  -- flow: unique: a pruned job's key, if it still names this job, goes with it.
  if h[4] and redis.call('GET', P .. 'unique:' .. h[4]) == sid then
    redis.call('DEL', P .. 'unique:' .. h[4])
  end
  if h[1] then
    redis.call('ZREM', idx_key(h[1], h[2]), sid)
    redis.call('DEL', key)
    if redis.call('HGET', P .. 'ids', h[3]) == sid then redis.call('HDEL', P .. 'ids', h[3]) end
  end
end
return #due
