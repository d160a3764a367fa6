-- Store new jobs.
-- ARGV: prefix, now, dedupe ('1' on a retried call), then per job:
--   job_id, job_class, queue, priority, run_at ('' = now), payload
-- A retried call (dedupe) skips a job whose job_id already maps to a job created at
-- this same `now`: the first attempt stored it before the connection broke.
-- Returns the sids, in order.
local FIELDS = 6
local dedupe = ARGV[3] == '1'
local n = (#ARGV - 3) / FIELDS
local last = redis.call('INCRBY', P .. 'seq', n)
local announced, prios = {}, {}
local sids = {}
for i = 0, n - 1 do
  local b = 4 + i * FIELDS
  local job_id, class, queue, prio, run_at, payload =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local sid = string.format('%016d', last - n + 1 + i)
  local previous = dedupe and redis.call('HGET', P .. 'ids', job_id)
  if previous and redis.call('HGET', job_key(previous), 'created_at') == NOW then
    sid = previous
  else
    local state = 'ready'
    if run_at == '' then
      run_at = NOW
    elseif tonumber(run_at) > tonumber(NOW) then
      state = 'scheduled'
    end
    if state == 'ready' then
      redis.call('ZADD', ready_key(queue, prio), run_at, sid)
      -- A batch mostly shares a queue and priority: index each pair once.
      if not prios[queue .. ':' .. prio] then
        prios[queue .. ':' .. prio] = true
        redis.call('ZADD', prios_key(queue), prio, prio)
      end
    else
      redis.call('ZADD', P .. 'scheduled', run_at, sid)
    end
    -- attempts and crashes start at 0: absent fields read as 0.
    redis.call('HSET', job_key(sid), 'job_id', job_id, 'class', class, 'queue', queue,
      'priority', prio, 'state', state, 'payload', payload, 'created_at', NOW, 'run_at', run_at)
    redis.call('HSET', P .. 'ids', job_id, sid)
    redis.call('ZADD', idx_key(state, queue), 0, sid)
    if not announced[queue] then
      announced[queue] = true
      redis.call('SADD', P .. 'queues', queue)
      notify(queue)
    end
  end
  sids[i + 1] = sid
end
return sids
