-- Records the outcome of one contact sync and releases its lease.
-- KEYS[1] = contact hash, KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty", KEYS[4] = the member's events
-- "ks:{t}:ev:<member>", KEYS[5] = the email index "ks:{t}:email", KEYS[6] / KEYS[7] = for a lead, the hash and the
-- events of the member the C# side expects to own the lead's email now (ARGV[12]; absent when none expected).
-- ARGV[1] = member, ARGV[2] = outcome (S.Ok | S.Failed | S.Skipped), ARGV[3] = now ms,
-- ARGV[4] = synced version, ARGV[5] = AC contact id, ARGV[6] = email AC now knows,
-- ARGV[7] = error text, ARGV[8] = retry at (ms; failed only), ARGV[9] = the force counter the sync saw ("" none),
-- ARGV[10] = key prefix "ks:{t}:", ARGV[11] = the lease deadline this sync holds the contact with (its fencing token),
-- ARGV[12] = the owner of a lead's email the C# side expects ("" none).
-- Returns the attempt count for a failure, 1 when recorded, 0 for a contact gone, -1 when the lease was not this sync's,
-- {-2, owner} when a merged lead's email has another owner than expected: nothing was written, call again with it.
-- The owner is found at run time (email index), so: verify what the caller read and answer 'retry' before any write.
--! include members.lua
local held = redis.call('ZSCORE', KEYS[2], ARGV[1])
local mine = held and tonumber(held) == tonumber(ARGV[11])
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The lead merged into a customer meanwhile: nothing to record here. Events it had not sent yet were left on
  -- its list for this sync (see merge_lead in ingest.lua): they are the customer's now, ahead of its own. And what
  -- this sync sent went to the AC contact that is the customer's now, maybe after the customer's own sync did:
  -- the customer is sent once more ("skipped": a sync that sent nothing, e.g. it found the lead gone).
  local owner = nil
  if is_lead(ARGV[1]) then
    owner = redis.call('HGET', KEYS[5], member_id(ARGV[1]))
    if owner and is_customer(owner) and (owner or '') ~= ARGV[12] then return {-2, owner} end
  end
  if mine then redis.call('ZREM', KEYS[2], ARGV[1]) end
  if owner and is_customer(owner) and redis.call('EXISTS', KEYS[6]) == 1 then
    local requeue = false
    if redis.call('EXISTS', KEYS[4]) == 1 then
      local cev = KEYS[7]
      local own = redis.call('LRANGE', cev, 0, -1)
      redis.call('RENAME', KEYS[4], cev)
      for j = 1, #own, 1000 do
        redis.call('RPUSH', cev, unpack(own, j, math.min(j + 999, #own)))
      end
      requeue = true
    end
    if ARGV[2] ~= S.Skipped then
      redis.call('HINCRBY', KEYS[6], C.Force, 1)
      requeue = true
    end
    if requeue then redis.call('ZADD', KEYS[3], 'NX', ARGV[3], owner) end
  end
  return 0
end
if mine then redis.call('ZREM', KEYS[2], ARGV[1]) end
if not mine then
  -- The lease ran out and another replica took the contact over (it may be done already): its claim and its
  -- records are left alone. What this late sync sent may have reached AC after the newer sync's requests, so the
  -- contact is sent once more, after the holder (a contact in flight is never handed out twice).
  if ARGV[2] ~= S.Skipped then
    redis.call('HINCRBY', KEYS[1], C.Force, 1)
    redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
  end
  return -1
end
if ARGV[2] == S.Ok then
  redis.call('HSET', KEYS[1], C.SyncedAt, ARGV[3], C.SyncedVersion, ARGV[4], C.AcId, ARGV[5], C.AcEmail, ARGV[6], C.SyncState, S.Ok, C.Error, '', C.Attempts, 0)
  -- Clear only the forced resync this sync carried out: one asked for while it ran stays and runs next.
  if ARGV[9] ~= '' and redis.call('HGET', KEYS[1], C.Force) == ARGV[9] then redis.call('HDEL', KEYS[1], C.Force) end
elseif ARGV[2] == S.Skipped then
  redis.call('HSET', KEYS[1], C.SyncedVersion, ARGV[4], C.SyncState, S.Skipped, C.Error, ARGV[7], C.Attempts, 0)
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], C.AcId, ARGV[5], C.AcEmail, ARGV[6]) end
else
  local attempts = redis.call('HINCRBY', KEYS[1], C.Attempts, 1)
  redis.call('HSET', KEYS[1], C.SyncState, S.Failed, C.Error, ARGV[7])
  redis.call('ZADD', KEYS[3], tonumber(ARGV[8]), ARGV[1])
  return attempts
end
return 1
