-- Takes a customer out of the order queue once none of its orders waits (a new one may have arrived).
-- KEYS[1] = "ks:{t}:op:<id>", KEYS[2] = "ks:{t}:oq", KEYS[3] = "ks:{t}:oq:live". ARGV[1] = customer id.
if redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 1
