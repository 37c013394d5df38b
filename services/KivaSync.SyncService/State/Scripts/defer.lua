-- Hands a claimed contact back to the queue for later without counting an attempt. A lead merged meanwhile comes back
-- only for events it still holds (complete.lua hands them over). A contact another replica took over is left to it
-- and sent once more after it.
-- KEYS[1] = inflight, KEYS[2] = dirty, KEYS[3] = contact hash, KEYS[4] = the member's events.
-- ARGV[1] = member, ARGV[2] = retry at ms, ARGV[3] = lease deadline held (fencing token).
--! include lease_fence.lua
if taken_over(KEYS[1], KEYS[3], KEYS[2], ARGV[1], ARGV[3], ARGV[2]) then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) end
return 1
