-- Moves a tenant's dedup generation forward and drops the windowed identity buckets of generations older than the
-- previous one (docs/dedup.md): ingest.lua asks for it ({'rotate', g}) before it folds anything.
-- KEYS[1] = "ks:{t}:meta", KEYS[2..] = the buckets "r:<g>:<4 hex>" of the generations to drop, computed by the caller
-- from the generation it read; verified: when meta holds another generation by now, nothing is done (0) and ingest
-- asks again. ARGV[1] = the generation read, ARGV[2] = the new generation.
if tonumber(redis.call('HGET', KEYS[1], M.DedupGeneration) or '-1') ~= tonumber(ARGV[1]) then return 0 end
for k = 2, #KEYS do redis.call('UNLINK', KEYS[k]) end
redis.call('HSET', KEYS[1], M.DedupGeneration, ARGV[2])
return 1
