-- Whether a worker waiting on these queue entries could claim a job now, and when
-- the next scheduled job is due. Due scheduled jobs are promoted first.
-- ARGV: prefix, now, promote_limit, then queue entries (as for claim).
-- Returns {1 or 0, the earliest scheduled run_at or ''}.
promote_due(tonumber(ARGV[3]))
release_rate_held()  -- flow: rate limits
local claimable = 0
for _, group in ipairs(queue_groups(argv_from(4))) do
  for _, q in ipairs(group) do
    if head(q) then
      claimable = 1
      break
    end
  end
  if claimable == 1 then break end
end
local next_due = redis.call('ZRANGE', P .. 'scheduled', 0, 0, 'WITHSCORES')[2] or ''
-- flow: rate limits -- a held job's window freeing is a due time too.
local wake = next_rate_wake()
if wake ~= '' and (next_due == '' or tonumber(wake) < tonumber(next_due)) then next_due = wake end
return {claimable, next_due}
