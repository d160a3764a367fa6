-- Store new jobs of which some are unique (flow: unique); push.lua stores the rest.
-- ARGV: prefix, now, dedupe ('1' on a retried call), then per job:
--   job_id, job_class, queue, priority, run_at ('' = now), payload,
--   lock ('' = not unique), key, until, within (seconds, '' = none), on_conflict,
--   rate limits ('' = none), concurrency ('' = none)
-- P..'unique:'..lock is the sid of the job that took the key. Whether that job still
-- holds it is decided here from its hash (`unique_holds`), inside this script, so no
-- other command runs between the look and the write.
-- Returns, per job, three values: 'stored', its sid, '' / 'duplicate' or 'replaced',
-- the holder's sid and job_id.
local FIELDS = 13
local dedupe = ARGV[3] == '1'
local n = (#ARGV - 3) / FIELDS
local last = redis.call('INCRBY', P .. 'seq', n)
local seen = {}
local out = {}

for i = 0, n - 1 do
  local b = 4 + i * FIELDS
  local job_id, class, queue, prio, run_at, payload =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local lock, ukey, hold_until, within, on_conflict =
    ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ARGV[b + 9], ARGV[b + 10]
  local rate, concurrency = ARGV[b + 11], ARGV[b + 12]
  local sid = string.format('%016d', last - n + 1 + i)
  local kind, holder, holder_job = 'stored', sid, ''
  local h = nil
  if lock ~= '' then holder, h = unique_holder(lock) end
  local previous = dedupe and redis.call('HGET', P .. 'ids', job_id)
  if previous and redis.call('HGET', job_key(previous), 'created_at') == NOW then
    kind, holder = 'stored', previous
  elseif h and h[5] ~= job_id and unique_holds(h) then
    holder_job = h[5]
    local waiting = h[1] == 'scheduled' or h[1] == 'ready' or h[1] == 'blocked'
    if on_conflict == 'replace' and waiting and tonumber(h[2] or '0') == 0 then
      unique_replace(holder, h, job_id, queue, prio, run_at, payload)
      kind = 'replaced'
    else
      kind = 'duplicate'
    end
  else
    holder = sid
    -- The job's unique and rate fields go in insert_job's HSET: one write of the hash.
    local extra = {}
    if lock ~= '' then unique_fields(ukey, lock, hold_until, within, extra) end
    if rate ~= '' then  -- flow: rate limits
      extra[#extra + 1] = 'rate'
      extra[#extra + 1] = rate
    end
    insert_job(sid, job_id, class, queue, prio, run_at, payload, seen, extra)
    cc_insert(sid, concurrency, queue, prio)  -- flow: concurrency
    if lock ~= '' then unique_hold(sid, lock, within) end
  end
  out[#out + 1] = kind
  out[#out + 1] = holder
  out[#out + 1] = holder_job
end
return out
