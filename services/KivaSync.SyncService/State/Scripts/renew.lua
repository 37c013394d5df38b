-- Moves the leases of contacts this worker holds from ARGV[1] to ARGV[2]; 0 when any of them is no longer held
-- with that deadline (another replica took it over, or it ended).
-- KEYS[1] = "ks:{t}:inflight". ARGV[1] = held until ms, ARGV[2] = new deadline ms, ARGV[3..] = members.
local all = 1
for i = 3, #ARGV do
  local held = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if held and tonumber(held) == tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[i])
  else
    all = 0
  end
end
return all
