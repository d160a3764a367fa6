-- A fetcher with room is about to block on its hand-off list: register it as idle,
-- unless it could claim a job now. Due scheduled jobs are promoted first (as by peek).
-- ARGV: prefix, now, worker_id, promote_limit, deadline (epoch seconds: a push hands
-- it nothing after that, since a fetcher that died is not heard from again), horizon
-- (epoch seconds: the end of the fetcher's wait), then queue entries (as for claim).
-- Returns {code, the earliest scheduled run_at or ''}: code 0, registered; 2, not
-- registered since a job comes due before the horizon (the fetcher times that wait
-- itself: a BLPOP's timeout is only as precise as the server's hz, 100 ms by
-- default); 1, something is claimable, not registered,
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
local entries = argv_from(7)
for _, group in ipairs(queue_groups(entries)) do
  for _, q in ipairs(group) do
    if head(q) then return {1, ''} end
  end
end
local next_due = redis.call('ZRANGE', P .. 'scheduled', 0, 0, 'WITHSCORES')[2] or ''
-- flow: rate limits -- a held job's window freeing is a due time too.
local wake = next_rate_wake()
if wake ~= '' and (next_due == '' or tonumber(wake) < tonumber(next_due)) then next_due = wake end
if next_due ~= '' and tonumber(next_due) <= tonumber(ARGV[6]) then return {2, next_due} end
redis.call('HSET', P .. 'idle', wid, cjson.encode({tonumber(ARGV[5]), entries}))
return {0, next_due}
