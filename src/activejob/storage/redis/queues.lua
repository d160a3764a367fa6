-- Every known queue with its paused flag and its job counts by state.
-- ARGV: prefix, now, promote_limit, then the states to count.
-- Returns, per queue: name, paused (0/1), then one count per state.
promote_due(tonumber(ARGV[3]))
local states = argv_from(4)
local names = {}
for _, q in ipairs(redis.call('SUNION', P .. 'queues', P .. 'paused')) do names[#names + 1] = q end
table.sort(names)
local out = {}
for _, q in ipairs(names) do
  out[#out + 1] = q
  out[#out + 1] = redis.call('SISMEMBER', P .. 'paused', q)
  for _, state in ipairs(states) do
    out[#out + 1] = redis.call('ZCARD', idx_key(state, q))
  end
end
return out
