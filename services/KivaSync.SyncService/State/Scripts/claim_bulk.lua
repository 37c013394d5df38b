-- Claims a batch of backfill contacts for one bulk import: settled (debounce and backfill hold as in
-- claim.lua), not live, not in flight, and never sent to AC by any path (no AC id, no sync state, no
-- earlier bulk attempt) — bulk import can add lists and tags but cannot change an email, remove a tag or
-- see an unsubscribe, so only contacts AC has never had from us go this way. Claims nothing unless more
-- than the threshold are waiting: a few contacts cost fewer requests one by one.
-- KEYS[1] = "ks:{t}:dirty", KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty:live", KEYS[4] = "ks:{t}:meta"
-- ARGV[1] = now ms, ARGV[2] = debounce ms, ARGV[3] = lease ms, ARGV[4] = max members (250),
-- ARGV[5] = backfill settle ms, ARGV[6] = backfill max hold ms, ARGV[7] = threshold, ARGV[8] = key prefix "ks:{t}:"
-- KEYS[5..] = the contact hashes of the members the window can hold, read by the C# side first (run-time keys: the
-- queue's head). Verify rather than retry: a member whose hash did not arrive is not picked (nothing is written for
-- it); it stays queued for the next call.
local declared = {}
for k = 5, #KEYS do declared[KEYS[k]] = true end
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[4])
local threshold = tonumber(ARGV[7])
local p = ARGV[8]
if redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[3]) <= threshold then return {} end
local settled = now - tonumber(ARGV[2])
local hist = tonumber(redis.call('HGET', KEYS[4], M.HistoryMs) or '0')
if now - hist < tonumber(ARGV[5]) then settled = math.min(settled, now - tonumber(ARGV[6])) end
local picked = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', settled, 'LIMIT', 0, max * 4)) do
  if #picked >= max then break end
  if not redis.call('ZSCORE', KEYS[2], m) and not redis.call('ZSCORE', KEYS[3], m) then
    local key = p .. m
    if declared[key] then
      local h = redis.call('HMGET', key, C.AcId, C.SyncState, C.Bulk, C.Email)
      if not h[1] and not h[2] and not h[3] and h[4] then picked[#picked + 1] = m end
    end
  end
end
if #picked <= threshold then return {} end
for _, m in ipairs(picked) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), m)
end
return picked
