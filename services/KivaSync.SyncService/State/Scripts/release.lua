-- Gives a claimed contact back to the queue untouched (this replica is stopping). A claim no longer held with the
-- given deadline is left to its holder; the contact is forced and queued to be sent again after it.
-- KEYS[1] = "ks:{t}:inflight", KEYS[2] = "ks:{t}:dirty", KEYS[3] = the contact hash.
-- ARGV[1] = member, ARGV[2] = now ms, ARGV[3] = the lease deadline held (fencing token).
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if held and tonumber(held) == tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
elseif redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HINCRBY', KEYS[3], C.Force, 1)
end
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
return 1
