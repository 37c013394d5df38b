-- AC has the recurring payment at version ARGV[2]: it stops waiting unless an entry changed it meanwhile (a newer
-- version is sent next round). KEYS[1] = the customer's hash, KEYS[2] = "ks:{t}:rpp".
-- ARGV[1] = customer id, ARGV[2] = version sent, ARGV[3] = suppressAutomations sent (1/0).
local sent = tonumber(redis.call('HGET', KEYS[1], C.RpSentVersion) or '0')
if tonumber(ARGV[2]) > sent then redis.call('HSET', KEYS[1], C.RpSentVersion, ARGV[2], C.RpSentSuppress, ARGV[3]) end
if tonumber(redis.call('HGET', KEYS[1], C.RpVersion) or '0') <= tonumber(ARGV[2]) then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
