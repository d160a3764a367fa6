-- A fetcher with room is about to block on its hand-off list: register it as idle,
-- unless it could claim a job now. Due scheduled jobs are promoted first (as by peek).
-- ARGV: prefix, now, worker_id, promote_limit, deadline (epoch seconds: a push hands
-- it nothing after that, since a fetcher that died is not heard from again), then
-- queue entries (as for claim).
-- Returns {1 or 0 (claimable: not registered), the earliest scheduled run_at or ''},
-- then, oldest first, what its hand-off list still held (it is not registered then
-- either): what was handed to a registration whose wait broke off (a lost
-- connection) before it was read.
-- A registration ends with the first job or wake-up handed to it (removed by who
-- handed it), or with unidle.lua (the fetcher's wait ended otherwise).
local wid = ARGV[3]
local key = P .. 'handoff:' .. wid
if redis.call('LLEN', key) > 0 then
  local out = {1, ''}
  local items = redis.call('LRANGE', key, 0, -1)
  redis.call('DEL', key)
  for i = #items, 1, -1 do out[#out + 1] = items[i] end
  return out
end
promote_due(tonumber(ARGV[4]))
release_rate_held()  -- flow: rate limits
local entries = argv_from(6)
for _, group in ipairs(queue_groups(entries)) do
  for _, q in ipairs(group) do
    if head(q) then return {1, ''} end
  end
end
redis.call('HSET', P .. 'idle', wid, cjson.encode({tonumber(ARGV[5]), entries}))
local next_due = redis.call('ZRANGE', P .. 'scheduled', 0, 0, 'WITHSCORES')[2] or ''
-- flow: rate limits -- a held job's window freeing is a due time too.
local wake = next_rate_wake()
if wake ~= '' and (next_due == '' or tonumber(wake) < tonumber(next_due)) then next_due = wake end
return {0, next_due}
