-- flow: cancellation. Cancel the newest job with a job_id: a waiting one (ready,
-- scheduled) is discarded now; a running one is marked with the attempts of its
-- claim (the request holds for that claim only) and its worker is told on the
-- notify channel; a finished one is left alone.
-- ARGV: prefix, now, job_id, notice (the channel suffix), error_class, error_message.
-- Returns {outcome, state}, or {} for an unknown job_id.
local sid = redis.call('HGET', P .. 'ids', ARGV[3])
if not sid then return {} end
local key = job_key(sid)
local h = redis.call('HMGET', key, 'state', 'queue', 'priority', 'attempts')
local state = h[1]
if not state then return {} end
if state == 'ready' or state == 'scheduled' then
  unqueue(sid, state, h[2], h[3])
  set_error(sid, ARGV[5], ARGV[6], '')
  finish(sid, state, h[2], 'discarded')
  return {'discarded', state}
end
if state == 'running' then
  redis.call('HSET', key, 'cancel_attempts', h[4] or '0')
  redis.call('PUBLISH', P .. 'notify:' .. ARGV[4], '')
  return {'requested', state}
end
return {'finished', state}
