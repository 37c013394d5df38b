-- An operator's resync: one more force on a contact that still exists (a counter, not a flag: a sync clears only
-- the force it saw). A lead merged into a customer since it was looked up must not come back as a stub hash.
-- KEYS[1] = the contact hash.
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], C.Force, 1) end
return 1
