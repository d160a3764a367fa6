-- Jobs from the given listing indexes, newest (largest sid) first. Due scheduled jobs
-- are promoted first, so a job whose time has come reads as ready.
-- ARGV: prefix, now, promote_limit, offset, limit (-1 = no limit), job_class
-- ('' = any), then the names (without prefix) of the idx zsets to merge.
-- Returns one field/value list per job (see `describe`).
promote_due(tonumber(ARGV[3]))
local offset, limit, class = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local CHUNK = 256
local cursors = {}
for i = 7, #ARGV do
  cursors[#cursors + 1] = {key = P .. ARGV[i], pos = 0, buf = {}, i = 1, done = false}
end

local function peek(c)
  if c.i > #c.buf then
    if c.done then return nil end
    c.buf = redis.call('ZREVRANGE', c.key, c.pos, c.pos + CHUNK - 1)
    c.pos, c.i = c.pos + CHUNK, 1
    c.done = #c.buf < CHUNK
    if #c.buf == 0 then return nil end
  end
  return c.buf[c.i]
end

local out, skipped = {}, 0
while limit < 0 or #out < limit do
  local best, best_sid = nil, nil
  for _, c in ipairs(cursors) do
    local sid = peek(c)
    if sid and (best_sid == nil or sid > best_sid) then best, best_sid = c, sid end
  end
  if best == nil then break end
  best.i = best.i + 1
  if class == '' or redis.call('HGET', job_key(best_sid), 'class') == class then
    if skipped < offset then
      skipped = skipped + 1
    else
      local h = describe(best_sid)
      if #h > 0 then out[#out + 1] = h end
    end
  end
end
return out
