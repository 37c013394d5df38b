-- Records the outcome of one contact sync and releases its lease.
-- KEYS[1] = contact hash, KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty"
-- ARGV[1] = member, ARGV[2] = outcome ("ok" | "failed" | "skipped"), ARGV[3] = now ms,
-- ARGV[4] = synced version, ARGV[5] = AC contact id, ARGV[6] = email AC now knows,
-- ARGV[7] = error text, ARGV[8] = retry at (ms; failed only), ARGV[9] = the force counter the sync saw ("" none)
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The lead merged into a customer meanwhile: nothing to record here.
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == 'ok' then
  redis.call('HSET', KEYS[1], 'synced_at', ARGV[3], 'synced_ver', ARGV[4], 'ac_id', ARGV[5], 'ac_email', ARGV[6], 'state', 'ok', 'error', '', 'attempts', 0)
  -- Clear only the forced resync this sync carried out: one asked for while it ran stays and runs next.
  if ARGV[9] ~= '' and redis.call('HGET', KEYS[1], 'force') == ARGV[9] then redis.call('HDEL', KEYS[1], 'force') end
elseif ARGV[2] == 'skipped' then
  redis.call('HSET', KEYS[1], 'synced_ver', ARGV[4], 'state', 'skipped', 'error', ARGV[7], 'attempts', 0)
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'ac_id', ARGV[5], 'ac_email', ARGV[6]) end
else
  local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HSET', KEYS[1], 'state', 'failed', 'error', ARGV[7])
  redis.call('ZADD', KEYS[3], tonumber(ARGV[8]), ARGV[1])
  return attempts
end
return 1
