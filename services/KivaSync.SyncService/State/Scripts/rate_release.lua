-- Releasing a rate slot keeps it one more window after AC answered, on Redis's clock (TenantRateLimiter).
-- KEYS[1] = the budget's slots zset. ARGV[1] = request id, ARGV[2] = hold after the answer (ms).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
