-- AC accepted the order: its GraphQL record id, the source it was first sent with (kept), its refusal gone; it stops
-- waiting unless a newer entry replaced it meanwhile. KEYS[1] = "ks:{t}:o:<id>", KEYS[2] = "ks:{t}:op:<id>".
-- ARGV[1] = order id, ARGV[2] = record id, ARGV[3] = source sent, ARGV[4] = the ts of the version sent.
redis.call('HSET', KEYS[1], O.AcPrefix .. ARGV[1], ARGV[2])
redis.call('HSETNX', KEYS[1], O.AcSourcePrefix .. ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], O.RefusedPrefix .. ARGV[1])
if redis.call('HGET', KEYS[1], O.TsPrefix .. ARGV[1]) == ARGV[4] then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
