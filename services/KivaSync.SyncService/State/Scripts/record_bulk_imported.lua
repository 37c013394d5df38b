-- Records a contact a bulk import brought to AC and releases its claim: back to the queue when it still has
-- follow-up work or changed while the import ran. A claim taken over records nothing and queues the contact again.
-- KEYS[1] = the contact hash, KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty", KEYS[4] = the member's events.
-- ARGV[1] = member, ARGV[2] = now ms, ARGV[3] = requeue (1/0), ARGV[4] = lease deadline held, ARGV[5..] = field, value pairs.
--! include lease_fence.lua
if taken_over(KEYS[2], KEYS[1], KEYS[3], ARGV[1], ARGV[4], ARGV[2]) then return -1 end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- A lead merged into a customer meanwhile: events it still holds go to the customer on its next claim (complete.lua).
  if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1]) end
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
local v = redis.call('HMGET', KEYS[1], C.Version, C.SyncedVersion)
if ARGV[3] == '1' or tonumber(v[1] or '0') > tonumber(v[2] or '0') then redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1]) end
return 1
