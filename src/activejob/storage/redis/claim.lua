-- Claim up to `limit` jobs for a worker, in one atomic step.
-- ARGV: prefix, now, worker_id, limit, promote_limit, then queue entries in order of
-- preference: a name, or a prefix ending in '*' ('*' alone matches every queue).
-- Due scheduled jobs are promoted first. Within an entry, the smallest priority wins,
-- then the oldest run_at, then the oldest sid; a wildcard entry merges its queues so
-- that this order holds across them. Paused queues are skipped. Claiming counts as a
-- heartbeat of the worker.
-- Returns, per job: sid, job_id, queue, attempts, payload, priority (as stored, for the
-- caller to check), class; then, per job held back by its rate limit, seven values
-- with an empty sid (see the end). An index entry whose job is no longer ready (a hash changed by
-- hand) is dropped, not claimed.
local wid, limit = ARGV[3], tonumber(ARGV[4])
promote_due(tonumber(ARGV[5]))
release_rate_held()  -- flow: rate limits

local taken, from = {}, {}

local function take_from_queue(queue, want)
  for _, p in ipairs(redis.call('ZRANGE', prios_key(queue), 0, -1)) do
    local got = redis.call('ZPOPMIN', ready_key(queue, p), want)
    for j = 1, #got, 2 do
      taken[#taken + 1] = got[j]
      from[got[j]] = queue
    end
    if #got / 2 < want then redis.call('ZREM', prios_key(queue), p) end
    want = want - #got / 2
    if want <= 0 then return end
  end
end

local function before(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[3] < b[3]
end

local function take_merged(queues, want)
  local heads = {}
  for _, q in ipairs(queues) do heads[#heads + 1] = head(q) end
  while want > 0 do
    local best = nil
    for i, h in pairs(heads) do
      if best == nil or before(h, heads[best]) then best = i end
    end
    if best == nil then return end
    local h = heads[best]
    redis.call('ZREM', ready_key(h[5], h[4]), h[3])
    taken[#taken + 1] = h[3]
    from[h[3]] = h[5]
    want = want - 1
    heads[best] = head(h[5])
  end
end

local out, d = {}, {}
local rkey = running_key(wid)
local groups = queue_groups(argv_from(6))
local held_out = {}
-- flow: rate limits -- a job held back by its rate limit leaves room in the batch:
-- take again until the batch is full, nothing is left, or a thousand were held.
local held_total = 0
while true do
local held = 0
taken, from = {}, {}
for _, group in ipairs(groups) do
  local want = limit - #out / 7 - #taken
  if want <= 0 then break end
  if #group == 1 then
    take_from_queue(group[1], want)
  elseif #group > 1 then
    take_merged(group, want)
  end
end

for _, sid in ipairs(taken) do
  local key = job_key(sid)
  local h = redis.call('HMGET', key, 'job_id', 'queue', 'payload', 'attempts', 'state',
    'priority', 'class', 'rate', 'rate_until')
  local is_held = h[5] == 'ready' and rate_held(sid, h[8], h[4], h[9])  -- flow: rate limits
  if is_held then
    held = held + 1
    held_out[#held_out + 1] = {'', h[1], '', '', string.format('%.17g', is_held), '', h[8]}
  end
  if h[5] == 'ready' and not is_held then
    if not h[2] then
      -- A hash that lost its queue (changed by hand): the ready set it was in says it.
      h[2] = from[sid]
      redis.call('HSET', key, 'queue', h[2])
    end
    -- A count Lua cannot add one to exactly (edited by hand: past 2^53, not whole,
    -- not a number) starts again from 0, so the reply and the hash agree.
    local count = tonumber(h[4]) or 0
    if count ~= count or count % 1 ~= 0 or math.abs(count) > 9007199254740990 then
      count = 0
    end
    local attempts = count + 1
    redis.call('HSET', key, 'attempts', attempts, 'state', 'running', 'started_at', NOW,
      'worker', wid)
    defer(d, 'ZREM', idx_key('ready', h[2]), sid)
    defer(d, 'ZADD', idx_key('running', h[2]), 0, sid)
    defer(d, 'SADD', rkey, sid)
    out[#out + 1] = sid
    out[#out + 1] = h[1]
    out[#out + 1] = h[2]
    out[#out + 1] = attempts
    out[#out + 1] = h[3] or ''
    out[#out + 1] = h[6] or ''
    out[#out + 1] = h[7] or ''
  end
end
held_total = held_total + held
if held == 0 or #out / 7 >= limit or held_total >= 1000 then break end  -- flow: rate limits
end
flush(d)
redis.call('ZADD', P .. 'workers', NOW, wid)
redis.call('HSETNX', P .. 'worker:' .. wid, 'started_at', NOW)
-- flow: rate limits -- then the jobs held back, as ('', job_id, '', '', until, '', rate).
for _, entry in ipairs(held_out) do
  for _, v in ipairs(entry) do out[#out + 1] = v end
end
return out
