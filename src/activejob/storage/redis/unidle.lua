-- A fetcher's wait on its hand-off list ended without a job or a wake-up from a
-- script (a timeout, or its own process asked it to stop): end its registration, and
-- take whatever was handed to it meanwhile.
-- ARGV: prefix, now, worker_id. Returns the list's entries, oldest first.
local wid = ARGV[3]
local key = P .. 'handoff:' .. wid
redis.call('HDEL', P .. 'idle', wid)
local items = redis.call('LRANGE', key, 0, -1)
redis.call('DEL', key)
local out = {}
for i = #items, 1, -1 do out[#out + 1] = items[i] end
return out
