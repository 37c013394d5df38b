-- Takes a dead letter out and queues its contact for a sync now (attempts start again); an order dead letter's order
-- waits again. KEYS[1] = dead, KEYS[2] = dead:info, KEYS[3] = dirty, KEYS[4] = dirty:live, KEYS[5] = the contact hash,
-- KEYS[6] / KEYS[7] = the customer's orders hash and waiting set, KEYS[8] = the recurring payments waiting ("rpp").
-- ARGV[1] = id, ARGV[2] = member, ARGV[3] = now ms, ARGV[4] = the order id of an order dead letter ('' for other kinds),
-- ARGV[5] = the customer id of a recurring payment dead letter ('' for other kinds): it waits again with the others.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HDEL', KEYS[6], O.RefusedPrefix .. ARGV[4])
  if redis.call('HEXISTS', KEYS[6], ARGV[4]) == 1 then redis.call('SADD', KEYS[7], ARGV[4]) end
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('HSET', KEYS[5], C.Attempts, 0)
  if redis.call('HGET', KEYS[5], C.SyncState) == S.Dead then redis.call('HSET', KEYS[5], C.SyncState, S.Failed) end
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
end
if ARGV[5] ~= '' then redis.call('SADD', KEYS[8], ARGV[5]) end
return 1
