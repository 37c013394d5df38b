-- The tenant's AC budget, shared by every replica, on Redis's own clock.
-- AC counts requests by their arrival, which can be anywhere between our send and its answer. So a
-- request holds one of the tenant's N slots from before it is sent until one second after its answer
-- (see release in TenantRateLimiter): then no second-long window at AC can ever see N+1 requests,
-- whatever the network's jitter. A slot whose holder died expires after ARGV[3] ms.
-- KEYS[1] = slots (zset member = request id, score = expiry ms), KEYS[2] = pause key (Retry-After)
-- ARGV[1] = slots N, ARGV[2] = request id, ARGV[3] = longest hold ms
-- KEYS[3..5] = the usage buckets "<slots>:used:<n>" of the caller's 10-second bucket n - 1, n, n + 1. Which one Redis's
-- clock names is found at run time: the caller passes the candidates; with a clock further off than that, the
-- caller's own bucket (KEYS[4]) counts the request.
-- Returns 0 when the slot is taken, else milliseconds to wait before trying again.
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 1000)
  -- Usage in 10-second buckets, for the tenant status (same hash tag as KEYS[1]).
  local bucket = KEYS[1] .. P.RateUsed .. math.floor(now / 10000)
  if bucket ~= KEYS[3] and bucket ~= KEYS[5] then bucket = KEYS[4] end
  redis.call('INCR', bucket)
  redis.call('EXPIRE', bucket, 120)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(first[2]) - now
if wait < 1 then wait = 1 end
return wait
