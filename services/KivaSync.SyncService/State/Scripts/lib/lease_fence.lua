-- The fencing check every script that ends a claim starts with (bulk record, defer, dead letter): a claim's lease
-- deadline in inflight is its token, and a replica whose claim was taken over (its lease ran out while AC was slow)
-- must not end the new holder's claim nor record older state. Its contact is sent once more after the holder
-- instead, forced, because the late request may have reached AC last.
-- taken_over(inflight, contact, dirty, member, held_until, at): true (and the contact, if it still exists, forced
-- and queued at at) when member is no longer held until held_until.
local function taken_over(inflight, contact, dirty, member, held_until, at)
  local held = redis.call('ZSCORE', inflight, member)
  if held and tonumber(held) == tonumber(held_until) then return false end
  if redis.call('EXISTS', contact) == 1 then
    redis.call('HINCRBY', contact, C.Force, 1)
    redis.call('ZADD', dirty, 'NX', at, member)
  end
  return true
end
