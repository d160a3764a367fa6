-- Release the jobs of one worker known to be dead, and forget that worker. A crash
-- is counted only on the jobs it had started; the others go back unharmed.
-- ARGV: prefix, now, worker_id, max_crashes, the error to record on a job failed as
-- poison (error_class, and its message as the text before and after the crash
-- count), then the sids of the started jobs.
-- Returns {released, failed}.
local started = {}
for _, sid in ipairs(argv_from(8)) do started[sid] = true end
local unblocked = {}  -- flow: concurrency: job ids that freed slots made ready
local released, failed = release_worker(ARGV[3], tonumber(ARGV[4]), started, unblocked)
-- flow: concurrency: expired and orphaned slots handed on
cc_sweep(100, unblocked)
return {released, failed, unblocked}
