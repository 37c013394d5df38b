-- Claims up to ARGV[4] dirty contacts for one worker: takes back leases that expired (a replica
-- died mid-sync), then moves settled dirty members (dirty for at least the debounce time, so a
-- burst of entries makes one sync) into the in-flight set with a lease deadline. A member that
-- is in flight is never handed out twice.
-- KEYS[1] = "ks:{t}:dirty", KEYS[2] = "ks:{t}:inflight"
-- ARGV[1] = now ms, ARGV[2] = debounce ms, ARGV[3] = lease ms, ARGV[4] = max members
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[4])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)
for _, m in ipairs(expired) do
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZADD', KEYS[1], 'NX', 0, m)
end
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, max * 2)
local claimed = {}
for _, m in ipairs(ready) do
  if #claimed >= max then break end
  if not redis.call('ZSCORE', KEYS[2], m) then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), m)
    claimed[#claimed + 1] = m
  end
end
return claimed
