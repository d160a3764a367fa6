-- Helpers shared by the scripts: each script is preceded by this preamble and the
-- helpers it calls (see scripts.py).
--
-- ARGV[1] is the key prefix (ending with ':'), ARGV[2] the caller's clock in
-- epoch seconds, kept as the caller's exact string so no precision is lost
-- (Lua prints numbers with 14 significant digits).
--
-- Keys (P = prefix):
--   P..'seq'                    counter of storage ids
--   P..'job:'..sid              hash: one stored job
--   P..'ids'                    hash: job_id -> the newest sid with that job_id
--   P..'ready:'..queue..':'..p  zset: ready sids of one queue and priority, by run_at
--   P..'prios:'..queue          zset: the priorities that queue has ready jobs in
--   P..'scheduled'              zset: sids waiting for their run_at
--   P..'idx:'..state..':'..q    zset (all scores 0, so ordered by sid): listing index
--   P..'finished'               zset: finished sids by finished_at, for pruning
--   P..'failed_at'              zset: the failed ones among them, by finished_at (the chart)
--   P..'queues' / P..'paused'   sets of queue names
--   P..'workers'                zset: worker ids by last heartbeat
--   P..'worker:'..wid           hash: started_at, and info (JSON) from its heartbeats
--   P..'running:'..wid          set: sids the worker holds
--   P..'recurring:tasks'        hash: task key -> the task's definition (JSON)
--   P..'recurring:created' / P..'recurring:declared' / P..'recurring:resumed'
--                               hashes: task key -> epoch seconds
--   P..'recurring:last'         hash: task key -> its latest run time enqueued
--   P..'recurring:paused'       set of paused task keys
--   P..'recurring:run:'..key..':'..run_at  string: one run of a task, stored once
--   P..'unique:'..lock          string: the sid of the job that took a unique key
--   channel P..'notify:'..queue published when a queue may have claimable work
--   P..'idle'                   hash: wid -> JSON [deadline, queue entries] of a fetcher
--                               blocked on its hand-off list (see idle.lua); one job or
--                               wake-up each: whoever hands it one removes the entry
--   P..'handoff:'..wid          list: what was handed to that fetcher: a claimed job (JSON
--                               of claim's seven values), '' (look again) or 's' (stop)
--
-- A sid is the zero-padded storage id, so that sids sort as numbers would.
local P = ARGV[1]
local NOW = ARGV[2]
local IDX_KEYS = {}
local RATE_LOGS = {}  -- flow: rate limits: per bucket, its log trimmed once per script
local NOTIFIED = {}  -- queues announced by this script (once is enough: it is atomic)
local CC_LIMITS = {}  -- flow: concurrency: 'concurrency' texts decoded by this script
local NO_IDLERS = false  -- no fetcher is registered as idle (nothing in a script adds one)

local function job_key(sid) return P .. 'job:' .. sid end
-- Built once per (state, queue) and script: a hot loop names the same few indexes.
local function idx_key(state, queue)
  local by_queue = IDX_KEYS[state]
  if not by_queue then
    by_queue = {}
    IDX_KEYS[state] = by_queue
  end
  local key = by_queue[queue]
  if not key then
    key = P .. 'idx:' .. state .. ':' .. queue
    by_queue[queue] = key
  end
  return key
end
local function ready_key(queue, prio) return P .. 'ready:' .. queue .. ':' .. prio end
local function prios_key(queue) return P .. 'prios:' .. queue end
local function running_key(wid) return P .. 'running:' .. wid end

-- Deferred writes: `defer(d, cmd, key, a, b)` adds `a` (and `b`) to one call of `cmd`
-- on `key`, and `flush(d)` makes those calls, in the order their keys first appeared,
-- in slices that fit Lua's stack (1000 is even, so score/member and field/value pairs
-- stay whole). A script defers only writes that nothing later in it reads, so deferring
-- changes nothing but the number of calls: in a batch, a call costs Redis far more
-- than each member it carries. Start with `d = {}`.
local function defer(d, cmd, key, a, b)
  local by_key = d[cmd]
  if not by_key then
    by_key = {}
    d[cmd] = by_key
  end
  local entry = by_key[key]
  if not entry then
    entry = {cmd, key}
    by_key[key] = entry
    d[#d + 1] = entry
  end
  entry[#entry + 1] = a
  if b ~= nil then entry[#entry + 1] = b end
end

local function flush(d)
  for _, entry in ipairs(d) do
    for i = 3, #entry, 1000 do
      redis.call(entry[1], entry[2], unpack(entry, i, math.min(i + 999, #entry)))
    end
  end
end

local function reindex(sid, from_state, from_queue, to_state, to_queue)
  redis.call('ZREM', idx_key(from_state, from_queue), sid)
  redis.call('ZADD', idx_key(to_state, to_queue), 0, sid)
end

-- Put a job into its queue's ready set (the hash is updated by the caller). A priority
-- or run_at that is not a number (a hash written by hand or by a buggy version) is taken
-- as 0 or now: one bad hash must not make the script fail for every job it touches.
-- With `d`, the writes are deferred (see `defer`).
local function make_ready(sid, queue, prio, run_at, d)
  local p = tonumber(prio)
  if not p or p ~= math.floor(p) then prio = '0' end
  if not tonumber(run_at) then run_at = NOW end
  if d then
    defer(d, 'ZADD', ready_key(queue, prio), run_at, sid)
    -- a batch mostly shares a queue and priority: each pair indexed once
    local seen = d.prios or {}
    d.prios = seen
    local pair = queue .. ':' .. prio
    if not seen[pair] then
      seen[pair] = true
      defer(d, 'ZADD', prios_key(queue), prio, prio)
    end
    return
  end
  redis.call('ZADD', ready_key(queue, prio), run_at, sid)
  redis.call('ZADD', prios_key(queue), prio, prio)
end

-- Take a job out of wherever it waits (ready or scheduled).
local function unqueue(sid, state, queue, prio)
  if state == 'ready' then
    redis.call('ZREM', ready_key(queue, prio), sid)
  elseif state == 'scheduled' then
    redis.call('ZREM', P .. 'scheduled', sid)
  end
end

-- Whether a queue entry list (a name, or a prefix ending in '*') takes `queue`.
local function entries_match(entries, queue)
  for _, entry in ipairs(entries) do
    if entry == queue then return true end
    if string.sub(entry, -1) == '*' and string.sub(queue, 1, #entry - 1) ==
        string.sub(entry, 1, -2) then
      return true
    end
  end
  return false
end

-- An idle fetcher registered for `queue` (see idle.lua), its registration removed, or
-- nil; registrations past their deadline (a fetcher that died or stalled) are dropped.
local function take_idler(queue)
  if NO_IDLERS then return nil end
  local all = redis.call('HGETALL', P .. 'idle')
  if #all == 0 then
    NO_IDLERS = true
    return nil
  end
  for i = 1, #all, 2 do
    local ok, reg = pcall(cjson.decode, all[i + 1])
    if not ok or type(reg) ~= 'table' or not tonumber(reg[1])
        or tonumber(reg[1]) <= tonumber(NOW) then
      redis.call('HDEL', P .. 'idle', all[i])
    elseif entries_match(reg[2], queue) then
      redis.call('HDEL', P .. 'idle', all[i])
      return all[i]
    end
  end
  return nil
end

local function notify(queue)
  if NOTIFIED[queue] then return end
  NOTIFIED[queue] = true
  redis.call('PUBLISH', P .. 'notify:' .. queue, '')
  -- Fetchers blocked on their hand-off list hear it there: each is told to look again.
  while true do
    local wid = take_idler(queue)
    if not wid then return end
    redis.call('LPUSH', P .. 'handoff:' .. wid, '')
  end
end

-- Store a job as ready now, or scheduled for run_at; returns the new state.
local function enqueue(sid, queue, prio, run_at)
  if tonumber(run_at) <= tonumber(NOW) then
    make_ready(sid, queue, prio, run_at)
    return 'ready'
  end
  redis.call('ZADD', P .. 'scheduled', run_at, sid)
  return 'scheduled'
end

-- Record a final state: succeeded, failed or discarded; with `d`, the index writes are
-- deferred (see `defer`).
local function finish(sid, from_state, queue, state, d)
  redis.call('HSET', job_key(sid), 'state', state, 'finished_at', NOW)
  if d then
    defer(d, 'ZREM', idx_key(from_state, queue), sid)
    defer(d, 'ZADD', idx_key(state, queue), 0, sid)
    defer(d, 'ZADD', P .. 'finished', NOW, sid)
  else
    reindex(sid, from_state, queue, state, queue)
    redis.call('ZADD', P .. 'finished', NOW, sid)
  end
  if state == 'failed' then  -- the overview's chart: failures per minute
    redis.call('ZADD', P .. 'failed_at', NOW, sid)
  elseif from_state == 'failed' then
    redis.call('ZREM', P .. 'failed_at', sid)
  end
end

local function set_error(sid, class, message, traceback)
  if class ~= '' then
    redis.call('HSET', job_key(sid), 'error_class', class, 'error_message', message,
      'error_traceback', traceback)
  end
end

-- flow: cancellation. Whether a running job was asked to stop during its current
-- claim; if so, its error says it was cancelled (the caller then discards it).
local function cancelled(sid)
  local c = redis.call('HMGET', job_key(sid), 'cancel_attempts', 'attempts')
  if not c[1] or c[1] ~= (c[2] or '0') then return false end
  redis.call('HDEL', job_key(sid), 'worker')
  redis.call('HSET', job_key(sid), 'error_class', 'activejob.errors.JobCancelled',
    'error_message', 'cancelled while it ran; its worker stopped before it ended',
    'error_traceback', '')
  return true
end

-- A job as a flat field/value list, with its sid and, while it runs, its worker's
-- last heartbeat; an empty list when the job no longer exists.
local function describe(sid)
  local h = redis.call('HGETALL', job_key(sid))
  if #h == 0 then return h end
  h[#h + 1] = 'sid'
  h[#h + 1] = sid
  local w = redis.call('HMGET', job_key(sid), 'state', 'worker')
  if w[1] == 'running' and w[2] then
    local beat = redis.call('ZSCORE', P .. 'workers', w[2])
    if beat then
      h[#h + 1] = 'heartbeat_at'
      h[#h + 1] = beat
    end
  end
  return h
end

-- flow: concurrency (limits_concurrency) ------------------------------------------------
--   P..'cc:'..key               zset: sids holding a slot of key, by when the slot expires
--   P..'blocked:'..key          zset: sids blocked on key, by priority (ties: sid, FIFO)
--   P..'cc:waiting'             set: keys that have blocked jobs (for the maintenance pass)
-- A limited job's hash keeps its limits as 'concurrency' (JSON: [{key, limit, duration,
-- on_conflict}], keys sorted) and, while blocked, the key it waits for as 'blocked_by'
-- ('' once it got its slots; kept on a job discarded by on_conflict 'discard').
-- A blocked job scheduled for later waits in P..'scheduled' until due, then is dispatched.

-- The limits of a job's 'concurrency' text, or nil (none, or not readable: unlimited).
-- Jobs of one key share one text: each is decoded once per script (read only).
local function cc_limits(text)
  if not text or text == '' then return nil end
  local known = CC_LIMITS[text]
  if known ~= nil then return known or nil end
  local ok, limits = pcall(cjson.decode, text)
  if not ok or type(limits) ~= 'table' or #limits == 0 then limits = false end
  CC_LIMITS[text] = limits
  return limits or nil
end

-- Take a slot of every limit for sid, or none; returns the first full limit, or nil.
-- Expired slots count no more (at the latest after `duration` a lost slot comes back).
local function cc_acquire(sid, limits)
  for _, l in ipairs(limits) do
    -- expired slots (score <= NOW) count no more; their holders' release or the
    -- maintenance pass removes them
    if redis.call('ZCOUNT', P .. 'cc:' .. l.key, '(' .. NOW, '+inf') >= tonumber(l.limit) then
      return l
    end
  end
  for _, l in ipairs(limits) do
    redis.call('ZADD', P .. 'cc:' .. l.key, tonumber(NOW) + tonumber(l.duration), sid)
  end
  return nil
end

local function cc_wait_on(sid, key, prio)
  redis.call('HSET', job_key(sid), 'state', 'blocked', 'blocked_by', key)
  redis.call('ZADD', P .. 'blocked:' .. key, tonumber(prio) or 0, sid)
  redis.call('SADD', P .. 'cc:waiting', key)
end

-- A due limited job (in no queue right now) becomes ready if it gets its slots, else
-- blocked; with `at_push`, a full limit with on_conflict 'discard' discards it. The
-- job's listing index moves from `from_state`. Returns the new state.
local function cc_dispatch(sid, limits, from_state, queue, prio, run_at, at_push)
  local full = cc_acquire(sid, limits)
  if not full then
    redis.call('HSET', job_key(sid), 'state', 'ready', 'blocked_by', '')
    reindex(sid, from_state, queue, 'ready', queue)
    make_ready(sid, queue, prio, run_at)
    notify(queue)
    return 'ready'
  end
  if at_push and full.on_conflict == 'discard' then
    redis.call('HSET', job_key(sid), 'blocked_by', full.key)
    set_error(sid, 'activejob.flow.concurrency.ConcurrencyLimitReached',
      'discarded at enqueue: all ' .. full.limit .. ' slot(s) of concurrency key ' ..
      "'" .. full.key .. "' were taken (on_conflict='discard')", '')
    finish(sid, from_state, queue, 'discarded')
    return 'discarded'
  end
  cc_wait_on(sid, full.key, prio)
  reindex(sid, from_state, queue, 'blocked', queue)
  return 'blocked'
end

-- Park a limited job that waits for its run_at: blocked, timed by P..'scheduled'.
local function cc_park(sid, limits, from_state, queue, run_at)
  redis.call('HSET', job_key(sid), 'state', 'blocked', 'blocked_by', limits[1].key)
  redis.call('ZADD', P .. 'scheduled', run_at, sid)
  reindex(sid, from_state, queue, 'blocked', queue)
end

-- Hand free slots of key to its due blocked jobs, by priority then first enqueued;
-- the job ids made ready are appended to `out`. A limit of one frees one slot at a
-- time, so the first read is two candidates (the one that gets it and the one that
-- shows the key full again), then sixteen. A candidate left waiting on this key
-- stays in its set untouched. With `d`, the index writes are deferred (`defer`).
-- Every call here is paid once per slot handed on: a candidate's hash is read in
-- full only once it may start (the first one, or one the key has room for), and
-- 'blocked_by' is emptied in the same HSET that makes the job ready ('' reads as none).
local function cc_unblock(key, out, d)
  local bkey, ckey = P .. 'blocked:' .. key, P .. 'cc:' .. key
  local window = 2
  local held = nil  -- live slots of key, once counted
  local first = true
  while true do
    local sids = redis.call('ZRANGE', bkey, 0, window - 1)
    for _, sid in ipairs(sids) do
      local jkey = job_key(sid)
      -- state, blocked_by, concurrency, then (read with them for the first candidate,
      -- else once it gets its slots) queue, priority, run_at, job_id
      local h
      if first then
        h = redis.call('HMGET', jkey, 'state', 'blocked_by', 'concurrency', 'queue',
          'priority', 'run_at', 'job_id')
        first = false
      else
        h = redis.call('HMGET', jkey, 'state', 'blocked_by', 'concurrency')
      end
      if h[1] ~= 'blocked' or h[2] ~= key then
        redis.call('ZREM', bkey, sid)  -- a stale entry: the job moved on
      else
        local limits = cc_limits(h[3]) or {}
        local full
        if #limits == 1 and limits[1].key == key then
          -- this key alone (the usual case): its count read once, then kept up to
          -- date from ZADD CH (never below the truth: a doubt only waits longer)
          held = held or redis.call('ZCOUNT', ckey, '(' .. NOW, '+inf')
          if held >= tonumber(limits[1].limit) then
            full = limits[1]
          else
            held = held + redis.call('ZADD', ckey, 'CH',
              tonumber(NOW) + tonumber(limits[1].duration), sid)
          end
        else
          full = cc_acquire(sid, limits)
          held = nil  -- counted afresh after a job of several keys
        end
        if full and full.key == key then return end
        redis.call('ZREM', bkey, sid)
        if not full and not h[4] then
          local rest = redis.call('HMGET', jkey, 'queue', 'priority', 'run_at', 'job_id')
          h[4], h[5], h[6], h[7] = rest[1], rest[2], rest[3], rest[4]
        end
        if full then
          cc_wait_on(sid, full.key, h[4] and h[5] or redis.call('HGET', jkey, 'priority'))
        else
          redis.call('HSET', jkey, 'state', 'ready', 'blocked_by', '')
          if d then
            defer(d, 'ZREM', idx_key('blocked', h[4]), sid)
            defer(d, 'ZADD', idx_key('ready', h[4]), 0, sid)
          else
            reindex(sid, 'blocked', h[4], 'ready', h[4])
          end
          make_ready(sid, h[4], h[5], h[6], d)
          notify(h[4])
          out[#out + 1] = h[7]
        end
      end
    end
    if #sids < window then
      if redis.call('ZCARD', bkey) == 0 then redis.call('SREM', P .. 'cc:waiting', key) end
      return
    end
    window = 16
  end
end

-- Reverse the members of every deferred ZADD in `d` (before `flush`), for the writes
-- of jobs cc_unblock made ready: they come oldest first (in the order their keys were
-- freed), and a small sorted set (a listpack: up to 128 members) places each new
-- member by parsing every score before its place, so newest first each one stops at
-- the one added before it instead of passing all of them. A set's content is the same.
local function cc_newest_first(d)
  for _, entry in ipairs(d) do
    if entry[1] == 'ZADD' then
      local i, j = 3, #entry - 1
      while i < j do
        entry[i], entry[i + 1], entry[j], entry[j + 1] = entry[j], entry[j + 1], entry[i],
          entry[i + 1]
        i, j = i + 2, j - 2
      end
    end
  end
end

-- Free the slots a job held (it finished, or waits to run again) and hand them on
-- (`d` as in cc_unblock).
local function cc_release(sid, text, out, d)
  local limits = cc_limits(text)
  if not limits then return end
  for _, l in ipairs(limits) do
    redis.call('ZREM', P .. 'cc:' .. l.key, sid)
    cc_unblock(l.key, out, d)
  end
end

-- Hand a running job back to its queue unrun (release, recovery, reconcile); it keeps
-- its slots (it runs again), unless it was asked to stop: then it is discarded and its
-- slots go to the next blocked jobs, whose job ids are appended to `out` if given.
local function requeue(sid, h_queue, h_prio, h_run_at, out)
  if cancelled(sid) then  -- flow: cancellation. It never runs again.
    finish(sid, 'running', h_queue, 'discarded')
    cc_release(sid, redis.call('HGET', job_key(sid), 'concurrency'), out or {})
    return
  end
  redis.call('HSET', job_key(sid), 'state', 'ready')
  redis.call('HDEL', job_key(sid), 'worker')
  reindex(sid, 'running', h_queue, 'ready', h_queue)
  make_ready(sid, h_queue, h_prio, h_run_at)
  notify(h_queue)
end

-- The maintenance pass: for up to `limit` keys with blocked jobs, drop slots whose
-- holder no longer holds them (not ready or running) and hand free slots on.
local function cc_sweep(limit, out)
  for _, key in ipairs(redis.call('SRANDMEMBER', P .. 'cc:waiting', limit)) do
    local k = P .. 'cc:' .. key
    for _, sid in ipairs(redis.call('ZRANGE', k, 0, -1)) do
      local state = redis.call('HGET', job_key(sid), 'state')
      if state ~= 'ready' and state ~= 'running' then redis.call('ZREM', k, sid) end
    end
    cc_unblock(key, out)
  end
end

-- Make due scheduled jobs ready (at most `limit`), announcing each queue once so that
-- a waiter whose timer fired a little early still hears about them.
local function promote_due(limit)
  local due = redis.call('ZRANGEBYSCORE', P .. 'scheduled', '-inf', NOW, 'LIMIT', 0, limit)
  local announced = {}
  for _, sid in ipairs(due) do
    redis.call('ZREM', P .. 'scheduled', sid)
    local h = redis.call('HMGET', job_key(sid), 'queue', 'priority', 'run_at', 'state',
      'concurrency')
    -- flow: concurrency — a due limited job needs its slots first
    local limits = h[4] == 'blocked' and cc_limits(h[5])
    if limits then
      cc_dispatch(sid, limits, 'blocked', h[1], h[2], h[3], false)
    elseif h[4] == 'scheduled' then
      redis.call('HSET', job_key(sid), 'state', 'ready')
      reindex(sid, 'scheduled', h[1], 'ready', h[1])
      make_ready(sid, h[1], h[2], h[3])
      if not announced[h[1]] then
        announced[h[1]] = true
        notify(h[1])
      end
    end
  end
end

-- The best ready job of a queue as {prio, run_at, sid, prio_text, queue}, or nil.
-- Drops priorities whose ready set has emptied.
local function head(queue)
  while true do
    local p = redis.call('ZRANGE', prios_key(queue), 0, 0)[1]
    if not p then return nil end
    local h = redis.call('ZRANGE', ready_key(queue, p), 0, 0, 'WITHSCORES')
    if h[1] then return {tonumber(p), tonumber(h[2]), h[1], p, queue} end
    redis.call('ZREM', prios_key(queue), p)
  end
end

-- Queue entries (a name, or a prefix ending in '*') resolved to groups of unpaused
-- queue names, in order; a queue appears in the first group that matches it only.
local function queue_groups(entries)
  local paused = {}
  for _, q in ipairs(redis.call('SMEMBERS', P .. 'paused')) do paused[q] = true end
  local known, seen, groups = nil, {}, {}
  for _, entry in ipairs(entries) do
    local group = {}
    if string.sub(entry, -1) == '*' then
      local stem = string.sub(entry, 1, -2)
      known = known or redis.call('SMEMBERS', P .. 'queues')
      for _, q in ipairs(known) do
        if not seen[q] and not paused[q] and string.sub(q, 1, #stem) == stem then
          group[#group + 1] = q
        end
      end
    elseif not seen[entry] and not paused[entry] then
      group[1] = entry
    end
    for _, q in ipairs(group) do seen[q] = true end
    groups[#groups + 1] = group
  end
  return groups
end

local function argv_from(first)
  local out = {}
  for i = first, #ARGV do out[#out + 1] = ARGV[i] end
  return out
end

-- Forget a worker whose running jobs were released: its heartbeat, its in-progress
-- set, and its hand-off list and idle registration (a job handed to it is in the set).
local function forget_worker(wid)
  redis.call('DEL', running_key(wid), P .. 'worker:' .. wid, P .. 'handoff:' .. wid)
  redis.call('HDEL', P .. 'idle', wid)
  redis.call('ZREM', P .. 'workers', wid)
end

-- Release the running jobs of worker wid and forget the worker. A crash is counted
-- on each job, or, given `started` (a set of sids), only on those; a job past
-- max_crashes fails as poison with the error in ARGV[5] (class) and ARGV[6], ARGV[7]
-- (its message before and after the crash count). The job ids that slots freed made
-- ready are appended to `out` (flow: concurrency). Returns released, failed.
local function release_worker(wid, max_crashes, started, out)
  local rkey = running_key(wid)
  local released, failed = 0, 0
  for _, sid in ipairs(redis.call('SMEMBERS', rkey)) do
    local key = job_key(sid)
    local h = redis.call('HMGET', key, 'state', 'queue', 'worker', 'priority', 'run_at',
      'concurrency')
    if h[1] == 'running' and h[3] == wid then
      local crashes = 0
      if started == nil or started[sid] then
        crashes = redis.call('HINCRBY', key, 'crashes', 1)
      end
      if crashes > max_crashes then
        set_error(sid, ARGV[5], ARGV[6] .. crashes .. ARGV[7], '')
        finish(sid, 'running', h[2], 'failed')
        cc_release(sid, h[6], out)  -- flow: concurrency
        failed = failed + 1
      else
        requeue(sid, h[2], h[4], h[5], out)
        released = released + 1
      end
    end
  end
  forget_worker(wid)
  return released, failed
end

-- Store one new job under `sid` (ready, or scheduled if `run_at` is later than now;
-- '' means now). `seen` remembers, across the calls of one script, the queues
-- announced and the (queue, priority) pairs indexed already.
-- extra (optional): more field, value pairs of the job's hash, set in the same HSET.
local function insert_job(sid, job_id, class, queue, prio, run_at, payload, seen, extra)
  local state = 'ready'
  if run_at == '' then
    run_at = NOW
  elseif tonumber(run_at) > tonumber(NOW) then
    state = 'scheduled'
  end
  if state == 'ready' then
    redis.call('ZADD', ready_key(queue, prio), run_at, sid)
    -- A batch mostly shares a queue and priority: index each pair once.
    local pair = 'p' .. queue .. ':' .. prio
    if not seen[pair] then
      seen[pair] = true
      redis.call('ZADD', prios_key(queue), prio, prio)
    end
  else
    redis.call('ZADD', P .. 'scheduled', run_at, sid)
  end
  -- attempts and crashes start at 0: absent fields read as 0.
  redis.call('HSET', job_key(sid), 'job_id', job_id, 'class', class, 'queue', queue,
    'priority', prio, 'state', state, 'payload', payload, 'created_at', NOW, 'run_at', run_at,
    unpack(extra or {}))
  redis.call('HSET', P .. 'ids', job_id, sid)
  redis.call('ZADD', idx_key(state, queue), 0, sid)
  if not seen['q' .. queue] then
    seen['q' .. queue] = true
    redis.call('SADD', P .. 'queues', queue)
    notify(queue)
  end
end

-- flow: rate limits ------------------------------------------------------------------
-- A rate-limited job's hash has 'rate': a JSON array of {key, limit, per} (flow.rate).
-- Each (key, per) is a bucket with
--   P..'rate:log:'..b    zset: its starts in the window (score: when; member: when, sid, attempts)
--   P..'rate:held:'..b   zset: ready jobs held back while it is full (by sid, FIFO)
--   P..'rate:spec'       hash: bucket -> its smallest limit seen, for releasing
--   P..'rate:wake'       zset: buckets with held jobs, by when their window frees
-- A held job stays 'ready' (and indexed as such) but is out of its ready set, so no
-- claim pops it again until its window frees; then a claim or peek puts it back.
-- 'rate_until' on the hash says when, for status.

local function rate_bucket(limit)
  return limit.key .. '\0' .. string.format('%.17g', limit.per)
end

-- When the window of a bucket holding `card` starts has room for one more under
-- `limit`: the limit-th latest start plus per (now if it has room already).
local function rate_free_at(log, card, limit, per)
  if card < limit then return tonumber(NOW) end
  local s = redis.call('ZRANGE', log, card - limit, card - limit, 'WITHSCORES')
  return tonumber(s[2]) + per
end

-- A bucket's log, trimmed to the window (once per script: NOW does not change), with
-- its count kept as starts are added.
local function rate_log(l)
  local b = rate_bucket(l)
  local st = RATE_LOGS[b]
  if not st then
    local log = P .. 'rate:log:' .. b
    redis.call('ZREMRANGEBYSCORE', log, '-inf', tonumber(NOW) - l.per)
    st = {bucket = b, key = log, card = redis.call('ZCARD', log), expires = false}
    RATE_LOGS[b] = st
  end
  return st
end

-- Record a start of job `sid` in every bucket of `rate` if each has room (returns
-- false); else hold the job in its first full bucket and return when it may start.
-- `was_held` is the job's 'rate_until' field, cleared when it starts.
local function rate_held(sid, rate, attempts, was_held)
  if not rate then return false end
  local ok, limits = pcall(cjson.decode, rate)
  if not ok or type(limits) ~= 'table' then return false end
  for _, l in ipairs(limits) do  -- a hash written by hand: treated as unlimited
    if type(l) ~= 'table' or type(l.key) ~= 'string' or type(l.limit) ~= 'number'
        or type(l.per) ~= 'number' then
      return false
    end
  end
  local now = tonumber(NOW)
  local full, full_at, full_limit = nil, 0, 0
  for _, l in ipairs(limits) do
    local st = rate_log(l)
    if st.card >= l.limit then
      local at = rate_free_at(st.key, st.card, l.limit, l.per)
      if full == nil then full, full_limit = st.bucket, l.limit end
      if at > full_at then full_at = at end
    end
  end
  if full then
    redis.call('ZADD', P .. 'rate:held:' .. full, tonumber(sid), sid)
    local known = tonumber(redis.call('HGET', P .. 'rate:spec', full))
    if not known or full_limit < known then redis.call('HSET', P .. 'rate:spec', full, full_limit) end
    local wake = tonumber(redis.call('ZSCORE', P .. 'rate:wake', full))
    if not wake or wake > full_at or wake <= now then
      redis.call('ZADD', P .. 'rate:wake', full_at, full)
    end
    redis.call('HSET', job_key(sid), 'rate_until', string.format('%.17g', full_at))
    return full_at
  end
  for _, l in ipairs(limits) do
    local st = rate_log(l)
    redis.call('ZADD', st.key, now, NOW .. ':' .. sid .. ':' .. tostring(attempts))
    st.card = st.card + 1
    if not st.expires then
      redis.call('PEXPIRE', st.key, math.ceil(l.per * 1000) + 1000)
      st.expires = true
    end
  end
  if was_held then redis.call('HDEL', job_key(sid), 'rate_until') end
  return false
end

-- Put back into their ready sets the held jobs of buckets whose window has freed (as
-- many as each has room for), and wake the claimers of their queues.
local function release_rate_held()
  local now = tonumber(NOW)
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', P .. 'rate:wake', '-inf', now, 'LIMIT', 0, 100)) do
    local held = P .. 'rate:held:' .. b
    local log = P .. 'rate:log:' .. b
    local per = tonumber(string.match(b, '%z(.*)$'))
    local limit = tonumber(redis.call('HGET', P .. 'rate:spec', b)) or 1
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - per)
    local card = redis.call('ZCARD', log)
    local free = limit - card
    if free > 0 then
      for _, sid in ipairs(redis.call('ZRANGE', held, 0, free - 1)) do
        redis.call('ZREM', held, sid)
        local h = redis.call('HMGET', job_key(sid), 'state', 'queue', 'priority', 'run_at')
        if h[1] == 'ready' then
          make_ready(sid, h[2], h[3], h[4])
          notify(h[2])
        end
      end
    end
    if redis.call('ZCARD', held) > 0 then
      local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2]
      local at = (tonumber(oldest) or now) + per
      if card >= limit then at = rate_free_at(log, card, limit, per) end
      redis.call('ZADD', P .. 'rate:wake', at, b)
    else
      redis.call('ZREM', P .. 'rate:wake', b)
      redis.call('HDEL', P .. 'rate:spec', b)
    end
  end
end

-- When the earliest held job may start ('' when none is held).
local function next_rate_wake()
  return redis.call('ZRANGE', P .. 'rate:wake', 0, 0, 'WITHSCORES')[2] or ''
end

-- flow: concurrency -- a job just inserted with limits (their JSON in `text`) is ready
-- only with a slot of each of its keys: parked or dispatched here (push and push_unique).
local function cc_insert(sid, text, queue, prio)
  local limits = cc_limits(text)
  if not limits then return end
  local key = job_key(sid)
  redis.call('HSET', key, 'concurrency', text)
  local h = redis.call('HMGET', key, 'state', 'run_at')
  if h[1] == 'scheduled' then
    redis.call('ZREM', P .. 'scheduled', sid)
    cc_park(sid, limits, 'scheduled', queue, h[2])
  else
    redis.call('ZREM', ready_key(queue, prio), sid)
    cc_dispatch(sid, limits, 'ready', queue, prio, h[2], true)
  end
end

-- flow: unique ------------------------------------------------------------------------
-- Whether the job whose hash fields are `h` (state, attempts, unique_until,
-- unique_expires, job_id) still holds its unique key (activejob.flow.unique.holds_key).
local function unique_holds(h)
  if not h[1] then return false end
  if h[4] then return tonumber(h[4]) > tonumber(NOW) end
  local waiting = h[1] == 'scheduled' or h[1] == 'ready' or h[1] == 'blocked'
  if h[3] == 'finished' then return waiting or h[1] == 'running' end
  return waiting and tonumber(h[2] or '0') == 0
end

-- The holder of a unique key and its fields for `unique_holds`, or nil, nil.
local function unique_holder(lock)
  local holder = redis.call('GET', P .. 'unique:' .. lock)
  if not holder then return nil, nil end
  return holder, redis.call('HMGET', job_key(holder), 'state', 'attempts', 'unique_until',
    'unique_expires', 'job_id')
end

-- The waiting holder takes the new payload (with its own job_id), run time, queue
-- and priority; a blocked one stays blocked.
local function unique_replace(holder, h, job_id, queue, prio, run_at, payload)
  local key = job_key(holder)
  local old = redis.call('HMGET', key, 'queue', 'priority')
  local at = string.find(payload, '"job_id": "' .. job_id .. '"', 1, true)
  if at then
    payload = string.sub(payload, 1, at - 1) .. '"job_id": "' .. h[5] .. '"' ..
      string.sub(payload, at + 12 + #job_id)
  end
  if run_at == '' then run_at = NOW end
  redis.call('HSET', key, 'payload', payload, 'queue', queue, 'priority', prio, 'run_at', run_at)
  redis.call('SADD', P .. 'queues', queue)
  if h[1] == 'blocked' then return end
  unqueue(holder, h[1], old[1], old[2])
  local state = enqueue(holder, queue, prio, run_at)
  redis.call('HSET', key, 'state', state)
  reindex(holder, h[1], old[1], state, queue)
  if state == 'ready' then notify(queue) end
end

-- The job just stored as `sid` takes unique key `ukey` (digest `lock`), held until
-- `hold_until` ('started' or 'finished'), or for `within` seconds ('' = no expiry).
-- The fields of a job that takes its key, appended to extra (for insert_job's HSET).
local function unique_fields(ukey, lock, hold_until, within, extra)
  extra[#extra + 1] = 'unique_key'
  extra[#extra + 1] = ukey
  extra[#extra + 1] = 'unique_lock'
  extra[#extra + 1] = lock
  extra[#extra + 1] = 'unique_until'
  extra[#extra + 1] = hold_until
  if within ~= '' then
    extra[#extra + 1] = 'unique_expires'
    extra[#extra + 1] = string.format('%.6f', tonumber(NOW) + tonumber(within))
  end
  return extra
end

-- The key names its holder (for within, only that long).
local function unique_hold(sid, lock, within)
  local lkey = P .. 'unique:' .. lock
  if within ~= '' then
    redis.call('SET', lkey, sid, 'PX', math.ceil(tonumber(within) * 1000))
  else
    redis.call('SET', lkey, sid)
  end
end

local function unique_take(sid, lock, ukey, hold_until, within)
  redis.call('HSET', job_key(sid), unpack(unique_fields(ukey, lock, hold_until, within, {})))
  unique_hold(sid, lock, within)
end
