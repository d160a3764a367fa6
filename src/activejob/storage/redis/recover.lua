-- Release the jobs of workers that stopped heartbeating, and forget those workers.
-- ARGV: prefix, now, stale_before (epoch seconds), max_crashes, then the error to
-- record on a job whose workers died more than max_crashes times (failed as poison):
-- error_class, and its message as the text before and after the crash count.
-- Returns {released, failed}.
local stale_before, max_crashes = ARGV[3], tonumber(ARGV[4])
local released, failed = 0, 0
local unblocked = {}  -- flow: concurrency: job ids that freed slots made ready
for _, wid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'workers', '-inf', stale_before)) do
  local r, f = release_worker(wid, max_crashes, nil, unblocked)
  released, failed = released + r, failed + f
end
cc_sweep(100, unblocked)
return {released, failed, unblocked}
