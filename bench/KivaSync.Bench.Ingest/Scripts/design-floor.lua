-- The floor of the ingest design, for the redis-only mode of the bench: the service's own arguments,
-- the same walk over them, the same dedup, and per contact of a batch the fewest commands the design
-- needs (one HMGET, one HSET, one ZADD to the work queue, one RPUSH of its events) — but no fold
-- logic at all, no orders, no counters. Whatever the real script costs above this is the fold; no
-- implementation of this design can cost Redis less per entry than this.
local p = ARGV[1]
local now = tonumber(ARGV[2])
local gen = math.floor(now / tonumber(ARGV[3]))
local r_cur = p .. 'r:' .. gen .. ':'
local r_prev = p .. 'r:' .. (gen - 1) .. ':'
local dirty = p .. 'dirty'
local result = {}
local seen = {}
local contacts = {}
local evq = {}
local i = 10 -- ARGV[10]: the first entry (Schema.IngestArgs.FirstEntry)
local n = #ARGV
while i <= n do
  local kind = ARGV[i]
  local b, m = ARGV[i + 1], ARGV[i + 2]
  local fresh
  if kind == 'cw' or kind == 'nw' then
    fresh = redis.call('SISMEMBER', r_prev .. b, m) == 0 and redis.call('SADD', r_cur .. b, m) == 1
  else
    fresh = redis.call('SADD', p .. 'd:' .. b, m) == 1
  end
  result[#result + 1] = fresh and 1 or 0
  if kind == 'r' then
    i = i + 5
  else
    local ev = ARGV[i + 5]
    local np = tonumber(ARGV[i + 7])
    i = i + 8
    local member
    if kind == 'c' or kind == 'cw' then
      member = 'c:' .. ARGV[i]
      i = i + 1
    end
    if kind ~= 'n' and kind ~= 'nw' then
      member = member or ('l:' .. ARGV[i])
      i = i + 2
    end
    i = i + 2 * np
    if member and fresh then
      if not seen[member] then
        seen[member] = true
        contacts[#contacts + 1] = member
        redis.call('HMGET', p .. member, 'em', 't:em', 'el', 'ix', 'ver', 'last_ts')
      end
      if ev ~= '' then
        local q = evq[member]
        if not q then
          q = {}
          evq[member] = q
        end
        q[#q + 1] = ev
      end
    end
  end
end

for _, member in ipairs(contacts) do
  redis.call('HSET', p .. member, 'ver', '1')
  redis.call('ZADD', dirty, 'NX', now, member)
  local q = evq[member]
  if q then redis.call('RPUSH', p .. 'ev:' .. member, unpack(q)) end
end

return result
