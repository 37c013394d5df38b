-- Claims up to ARGV[4] dirty contacts for one worker: takes back leases that expired (a replica
-- died mid-sync), then hands out contacts changed by live entries first (KEYS[3], no debounce: a
-- live change should reach AC in seconds), then settled backfill contacts (dirty for at least the
-- debounce time, so a burst of entries makes one sync). A member in flight is never handed out twice.
-- Backfill: while history is still arriving (ingest stamps "hist_ms" in meta on every batch that carried
-- historical entries), backfill contacts wait until none came for the settle time, so a contact named all
-- through years of log is sent once, with its final state; one dirty for longer than the max hold goes
-- anyway (a history that streams for hours still shows progress).
-- KEYS[1] = "ks:{t}:dirty", KEYS[2] = "ks:{t}:inflight", KEYS[3] = "ks:{t}:dirty:live", KEYS[4] = "ks:{t}:meta"
-- ARGV[1] = now ms, ARGV[2] = debounce ms, ARGV[3] = lease ms, ARGV[4] = max members,
-- ARGV[5] = backfill settle ms, ARGV[6] = backfill max hold ms, ARGV[7] = bulk threshold (-1: no bulk import),
-- ARGV[8] = key prefix "ks:{t}:". While more backfill contacts than the threshold wait, the ones bulk import
-- may take (never sent to AC: see claim_bulk.lua) are left to it.
-- KEYS[5..] = the contact hashes the bulk check may read: found at run time (the queue's head), so the C# side reads
-- the queue first and passes the hashes of every member the window can hold (StateStore.ClaimAsync). Verify rather
-- than retry: this script only reads those hashes, so a member whose hash did not arrive (the queue changed between
-- the read and the claim) is simply left in the queue for the next claim; nothing is written for it.
local declared = {}
for k = 5, #KEYS do declared[KEYS[k]] = true end
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[4])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)
for _, m in ipairs(expired) do
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZADD', KEYS[1], 'NX', 0, m)
end
local claimed = {}
local function take(m)
  if #claimed < max and not redis.call('ZSCORE', KEYS[2], m) and redis.call('ZREM', KEYS[1], m) == 1 then
    redis.call('ZREM', KEYS[3], m)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), m)
    claimed[#claimed + 1] = m
  end
end
for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, max * 2 - 1)) do
  if not redis.call('ZSCORE', KEYS[1], m) then
    -- Already synced (or merged away) by an earlier claim: drop the stale live mark.
    redis.call('ZREM', KEYS[3], m)
  else
    take(m)
  end
end
local settled = now - tonumber(ARGV[2])
local hist = tonumber(redis.call('HGET', KEYS[4], M.HistoryMs) or '0')
if now - hist < tonumber(ARGV[5]) then
  -- History is still streaming in: only contacts held past the max hold.
  settled = math.min(settled, now - tonumber(ARGV[6]))
end
local bulk = tonumber(ARGV[7] or '-1')
if bulk >= 0 and redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[3]) <= bulk then bulk = -1 end
-- Skipping the bulk import's contacts, look further down the queue so they cannot block the rest.
local window = max * 2
if bulk >= 0 then window = window + 1000 end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', settled, 'LIMIT', 0, window)) do
  if #claimed >= max then break end
  if bulk < 0 then
    take(m)
  else
    -- Bulk import takes exactly what claim_bulk.lua picks: an existing contact never sent to AC. Anything
    -- else is ours, including a member whose hash is gone (a lead merged into a customer): the syncer drops it.
    local key = ARGV[8] .. m
    if declared[key] then
      local h = redis.call('HMGET', key, C.AcId, C.SyncState, C.Bulk, C.Email)
      if h[1] or h[2] or h[3] or not h[4] then take(m) end
    end
  end
end
return claimed
