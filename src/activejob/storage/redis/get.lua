-- The newest stored job of each job_id. Due scheduled jobs are promoted first, so a
-- job whose time has come reads as ready.
-- ARGV: prefix, now, promote_limit, then job_ids. Returns one field/value list per
-- job_id (empty when there is no such job).
promote_due(tonumber(ARGV[3]))
local out = {}
for i = 4, #ARGV do
  local sid = redis.call('HGET', P .. 'ids', ARGV[i])
  out[#out + 1] = sid and describe(sid) or {}
end
return out
