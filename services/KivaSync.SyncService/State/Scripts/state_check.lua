-- Checks a tenant's state marker (StateGuard). KEYS[1] = "ks:{t}:epoch", KEYS[2] = "ks:{t}:meta".
-- ARGV[1] = remembered id ("" none), ARGV[2] = remembered accepted, ARGV[3] = a fresh id, ARGV[4] = now ms.
-- Returns {condition, reason, id, accepted, created}.
local id = redis.call('HGET', KEYS[1], E.Id)
local lost = redis.call('HGET', KEYS[1], E.Lost)
local accepted = tonumber(redis.call('HGET', KEYS[2], M.Accepted) or '0')
if lost then return {E.VerdictLost, lost, id or '', accepted, 0} end
local known = ARGV[1]
if not id and known == '' then
  redis.call('HSET', KEYS[1], E.Id, ARGV[3], E.Since, ARGV[4])
  return {E.VerdictOk, '', ARGV[3], accepted, 1}
end
if known == '' or id == known and accepted >= tonumber(ARGV[2]) then return {E.VerdictOk, '', id, accepted, 0} end
if id ~= known and redis.call('HEXISTS', KEYS[1], E.AckedPrefix .. known) == 1 then return {E.VerdictOk, '', id, accepted, 0} end
local reason
if not id then
  reason = 'the tenant\'s marker is gone: Redis came back empty (restarted without persistence, flushed or replaced)'
elseif id ~= known then
  reason = 'the tenant\'s marker was replaced: this Redis is not the one that held the tenant\'s state'
else
  reason = 'Redis holds older data than it acknowledged (' .. accepted .. ' accepted entries, ' .. ARGV[2]
    .. ' seen before): it was restored from an old snapshot or failed over to a replica that lagged'
end
redis.call('HSET', KEYS[1], E.Lost, reason, E.LostAt, ARGV[4], E.SeenPrefix .. known, '1')
return {E.VerdictLost, reason, id or '', accepted, 0}
