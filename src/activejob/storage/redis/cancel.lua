-- flow: cancellation. Cancel the newest job with a job_id: a waiting one (ready,
-- scheduled, blocked) is discarded now, a blocked one leaving its key's line and the
-- slots of a ready one going to the next blocked jobs (flow: concurrency); a running
-- one is marked with the attempts of its claim (the request holds for that claim only)
-- and its worker is told on the notify channel; a finished one is left alone.
-- ARGV: prefix, now, job_id, notice (the channel suffix), error_class, error_message.
-- Returns {outcome, state, unblocked job ids}, or {} for an unknown job_id.
local sid = redis.call('HGET', P .. 'ids', ARGV[3])
if not sid then return {} end
local key = job_key(sid)
local h = redis.call('HMGET', key, 'state', 'queue', 'priority', 'attempts', 'blocked_by',
  'concurrency')
local state = h[1]
if not state then return {} end
local unblocked = {}
if state == 'ready' or state == 'scheduled' or state == 'blocked' then
  unqueue(sid, state, h[2], h[3])
  if state == 'blocked' then  -- in its key's line, or in 'scheduled' until due
    redis.call('ZREM', P .. 'blocked:' .. (h[5] or ''), sid)
    redis.call('ZREM', P .. 'scheduled', sid)
  end
  set_error(sid, ARGV[5], ARGV[6], '')
  finish(sid, state, h[2], 'discarded')
  if state == 'ready' then cc_release(sid, h[6], unblocked) end
  return {'discarded', state, unblocked}
end
if state == 'running' then
  redis.call('HSET', key, 'cancel_attempts', h[4] or '0')
  redis.call('PUBLISH', P .. 'notify:' .. ARGV[4], '')
  return {'requested', state, unblocked}
end
return {'finished', state, unblocked}
