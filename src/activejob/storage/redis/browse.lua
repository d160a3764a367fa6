-- A page for Storage.browse: the listing indexes merged newest (largest sid) first,
-- below the cursor, reading at most `scan` sids; the filters apply within that window.
-- Due scheduled jobs are promoted first, so a job whose time has come reads as ready.
-- ARGV: prefix, now, promote_limit, before ('' = from the newest), scan, limit, class,
-- error_class, created_after, created_before, text ('' = any), then the names (without
-- prefix) of the idx zsets to merge.
-- Returns: the lowest sid read ('' if none), how many were read, then one field/value
-- list per matching job (see `describe`).
promote_due(tonumber(ARGV[3]))
local before, scan, limit = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local class, error_class, after, until_, text = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local filtered = class ~= '' or error_class ~= '' or after ~= '' or until_ ~= '' or text ~= ''
local CHUNK = 256
local top = before == '' and '+' or '(' .. before
local cursors = {}
for i = 12, #ARGV do
  cursors[#cursors + 1] = {key = P .. ARGV[i], max = top, buf = {}, i = 1, done = false}
end

local function peek(c)
  if c.i > #c.buf then
    if c.done then return nil end
    c.buf = redis.call('ZREVRANGEBYLEX', c.key, c.max, '-', 'LIMIT', 0, CHUNK)
    c.i = 1
    c.done = #c.buf < CHUNK
    if #c.buf == 0 then return nil end
    c.max = '(' .. c.buf[#c.buf]
  end
  return c.buf[c.i]
end

local function matches(sid)
  if not filtered then return true end
  local h = redis.call('HMGET', job_key(sid), 'class', 'error_class', 'created_at', 'payload')
  local created = tonumber(h[3])
  if class ~= '' and h[1] ~= class then return false end
  if error_class ~= '' and h[2] ~= error_class then return false end
  if after ~= '' and not (created and created >= tonumber(after)) then return false end
  if until_ ~= '' and not (created and created < tonumber(until_)) then return false end
  if text ~= '' and not (h[4] and string.find(h[4], text, 1, true)) then return false end
  return true
end

local reply, found, read, lowest = {}, 0, 0, ''
while read < scan and found < limit do
  local best, best_sid = nil, nil
  for _, c in ipairs(cursors) do
    local sid = peek(c)
    if sid and (best_sid == nil or sid > best_sid) then best, best_sid = c, sid end
  end
  if best == nil then break end
  best.i = best.i + 1
  read, lowest = read + 1, best_sid
  if matches(best_sid) then
    local h = describe(best_sid)
    if #h > 0 then
      found = found + 1
      reply[found + 2] = h
    end
  end
end
reply[1], reply[2] = lowest, read
return reply
