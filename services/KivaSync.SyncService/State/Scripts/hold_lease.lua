-- Becomes (or stays) the holder of a lease string for ARGV[2] ms; 0 while another holds it.
-- KEYS[1] = the lease key. ARGV[1] = holder, ARGV[2] = ms.
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
