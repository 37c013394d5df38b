-- Releases a lease string if still held by ARGV[1]; returns how many keys were deleted.
-- KEYS[1] = the lease key. ARGV[1] = holder.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
