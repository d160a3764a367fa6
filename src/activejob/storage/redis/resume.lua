-- Claim from a queue again, and wake the workers waiting on it.
-- ARGV: prefix, now, queue.
redis.call('SREM', P .. 'paused', ARGV[3])
notify(ARGV[3])
