-- Dead-letters a claimed contact whose sync kept failing. A lead merged into a customer meanwhile is not
-- dead-lettered; events it still holds go back to the queue, whose next sync finds the lead gone and hands them to the
-- customer (complete.lua). A contact another replica took over is that one's: not dead-lettered, sent once more after it.
-- KEYS[1] = contact hash, KEYS[2] = inflight, KEYS[3] = dead, KEYS[4] = dead:info, KEYS[5] = dirty, KEYS[6] = the member's events.
-- ARGV[1] = member, ARGV[2] = reason, ARGV[3] = attempts, ARGV[4] = now ms, ARGV[5] = record JSON, ARGV[6] = lease deadline held.
--! include lease_fence.lua
if taken_over(KEYS[2], KEYS[1], KEYS[5], ARGV[1], ARGV[6], ARGV[4]) then return -1 end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('ZADD', KEYS[5], 'NX', ARGV[4], ARGV[1]) end
  return 0
end
redis.call('HSET', KEYS[1], C.SyncState, S.Dead, C.Error, ARGV[2], C.Attempts, ARGV[3], C.DeadAt, ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
return 1
