-- Records the outcome of one contact sync and releases its lease.
-- KEYS[1] = contact hash, KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty", KEYS[4] = the member's events
-- "ks:{t}:ev:<member>", KEYS[5] = the email index "ks:{t}:email"
-- ARGV[1] = member, ARGV[2] = outcome ("ok" | "failed" | "skipped"), ARGV[3] = now ms,
-- ARGV[4] = synced version, ARGV[5] = AC contact id, ARGV[6] = email AC now knows,
-- ARGV[7] = error text, ARGV[8] = retry at (ms; failed only), ARGV[9] = the force counter the sync saw ("" none),
-- ARGV[10] = key prefix "ks:{t}:", ARGV[11] = the lease deadline this sync holds the contact with (its fencing token)
-- Returns the attempt count for a failure, 1 when recorded, 0 for a contact gone, -1 when the lease was not this sync's.
local held = redis.call('ZSCORE', KEYS[2], ARGV[1])
local mine = held and tonumber(held) == tonumber(ARGV[11])
if mine then redis.call('ZREM', KEYS[2], ARGV[1]) end
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The lead merged into a customer meanwhile: nothing to record here. Events it had not sent yet were left on
  -- its list for this sync (see merge_lead in ingest.lua): they are the customer's now, ahead of its own. And what
  -- this sync sent went to the AC contact that is the customer's now, maybe after the customer's own sync did:
  -- the customer is sent once more ("skipped": a sync that sent nothing, e.g. it found the lead gone).
  if string.sub(ARGV[1], 1, 2) == 'l:' then
    local owner = redis.call('HGET', KEYS[5], string.sub(ARGV[1], 3))
    if owner and string.sub(owner, 1, 2) == 'c:' and redis.call('EXISTS', ARGV[10] .. owner) == 1 then
      local requeue = false
      if redis.call('EXISTS', KEYS[4]) == 1 then
        local cev = ARGV[10] .. 'ev:' .. owner
        local own = redis.call('LRANGE', cev, 0, -1)
        redis.call('RENAME', KEYS[4], cev)
        for j = 1, #own, 1000 do
          redis.call('RPUSH', cev, unpack(own, j, math.min(j + 999, #own)))
        end
        requeue = true
      end
      if ARGV[2] ~= 'skipped' then
        redis.call('HINCRBY', ARGV[10] .. owner, 'force', 1)
        requeue = true
      end
      if requeue then redis.call('ZADD', KEYS[3], 'NX', ARGV[3], owner) end
    end
  end
  return 0
end
if not mine then
  -- The lease ran out and another replica took the contact over (it may be done already): its claim and its
  -- records are left alone. What this late sync sent may have reached AC after the newer sync's requests, so the
  -- contact is sent once more, after the holder (a contact in flight is never handed out twice).
  if ARGV[2] ~= 'skipped' then
    redis.call('HINCRBY', KEYS[1], 'force', 1)
    redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
  end
  return -1
end
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
