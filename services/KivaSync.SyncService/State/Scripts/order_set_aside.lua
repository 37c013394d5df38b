-- Sets an order AC refused aside with AC's reason; 0 when a newer entry replaced it meanwhile.
-- KEYS[1] = "ks:{t}:o:<id>", KEYS[2] = "ks:{t}:op:<id>". ARGV[1] = order id, ARGV[2] = reason, ARGV[3] = the ts of the version sent.
if redis.call('HGET', KEYS[1], O.TsPrefix .. ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], O.RefusedPrefix .. ARGV[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
