-- GCRA on Redis's own clock: one shared budget for every replica. Returns 0 when the caller may
-- send now (and books its slot), else the milliseconds to wait. A pause set from a 429/503
-- Retry-After holds the whole tenant.
-- KEYS[1] = theoretical arrival time key, KEYS[2] = pause key
-- ARGV[1] = emission interval in microseconds (1e6 / rate), ARGV[2] = burst in requests (1 = none)
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat - tolerance
if allow_at > now then
  return math.ceil((allow_at - now) / 1000)
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
-- Usage in 10-second buckets, for the tenant status (same hash tag as KEYS[1]).
local bucket = KEYS[1] .. ':used:' .. math.floor(now / 10000000)
redis.call('INCR', bucket)
redis.call('EXPIRE', bucket, 120)
return 0
