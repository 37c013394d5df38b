-- The operator's acknowledgement of a loss: every id a replica may remember becomes acknowledged, a new id is written.
-- KEYS[1] = "ks:{t}:epoch". ARGV[1] = new id, ARGV[2] = now ms. Returns 1 when the tenant was marked lost.
local fields = redis.call('HKEYS', KEYS[1])
local id = redis.call('HGET', KEYS[1], E.Id)
if id then redis.call('HSET', KEYS[1], E.AckedPrefix .. id, ARGV[2]) end
for _, f in ipairs(fields) do
  if string.sub(f, 1, #E.SeenPrefix) == E.SeenPrefix then
    redis.call('HSET', KEYS[1], E.AckedPrefix .. string.sub(f, #E.SeenPrefix + 1), ARGV[2])
    redis.call('HDEL', KEYS[1], f)
  end
end
local was = redis.call('HGET', KEYS[1], E.Lost)
redis.call('HDEL', KEYS[1], E.Lost, E.LostAt)
redis.call('HSET', KEYS[1], E.Id, ARGV[1], E.Since, ARGV[2])
return was and 1 or 0
