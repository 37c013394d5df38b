-- Accepts one batch of one tenant atomically: drops duplicates by identity, counts rejections once,
-- folds each customer's and lead's state (per-field last-writer-wins on ts, which equals the
-- contract's fold in ts order) and marks changed contacts dirty for the sync workers.
-- KEYS[1] = the tenant's meta hash "ks:{t}:meta"; every other key is derived with the same {t} tag,
-- so the whole script runs on one Redis Cluster slot.
-- ARGV[1] = key prefix "ks:{t}:", ARGV[2] = now (unix ms, for queue scores),
-- ARGV[3] = JSON array of entries (see IngestScriptEntry in C#).
-- Returns an array with one code per entry: 1 accepted, 2 rejected (first time), 0 duplicate.
local p = ARGV[1]
local now = tonumber(ARGV[2])
local entries = cjson.decode(ARGV[3])
local meta = KEYS[1]
local seen = p .. 'seen'
local dirty = p .. 'dirty'
local idx = p .. 'email'
local result = {}

local function set_if_newer(key, field, value, ts)
  local tsf = 't:' .. field
  local old = tonumber(redis.call('HGET', key, tsf) or '-1')
  if ts >= old then
    redis.call('HSET', key, field, value, tsf, ts)
    return true
  end
  return false
end

local function apply_person(key, e)
  local changed = false
  if e.fn ~= nil and set_if_newer(key, 'fn', e.fn, e.ts) then changed = true end
  if e.ln ~= nil and set_if_newer(key, 'ln', e.ln, e.ts) then changed = true end
  if e.ph ~= nil and set_if_newer(key, 'ph', e.ph, e.ts) then changed = true end
  return changed
end

local function touch(key, member, e)
  redis.call('HINCRBY', key, 'ver', 1)
  local last = tonumber(redis.call('HGET', key, 'last_ts') or '-1')
  if e.ts > last then redis.call('HSET', key, 'last_ts', e.ts) end
  if e.tp ~= nil then redis.call('HSET', key, 'tp', e.tp) end
  redis.call('ZADD', dirty, 'NX', now, member)
end

-- A lead that turned customer: its name and phone carry over where newer; its AC contact is the customer's.
local function merge_lead(ckey, lead_email_lc)
  local lkey = p .. 'l:' .. lead_email_lc
  if redis.call('EXISTS', lkey) == 0 then return end
  for _, f in ipairs({'fn', 'ln', 'ph'}) do
    local v = redis.call('HGET', lkey, f)
    if v then set_if_newer(ckey, f, v, tonumber(redis.call('HGET', lkey, 't:' .. f))) end
  end
  local ac = redis.call('HGET', lkey, 'ac_id')
  if ac and not redis.call('HGET', ckey, 'ac_id') then
    redis.call('HSET', ckey, 'ac_id', ac, 'ac_email', redis.call('HGET', lkey, 'ac_email') or '')
  end
  redis.call('DEL', lkey)
  redis.call('SREM', p .. 'leads', lead_email_lc)
  redis.call('ZREM', dirty, 'l:' .. lead_email_lc)
  redis.call('ZREM', p .. 'inflight', 'l:' .. lead_email_lc)
end

for i, e in ipairs(entries) do
  if redis.call('SADD', seen, e.h) == 0 then
    result[i] = 0
  elseif e.r ~= nil then
    redis.call('HINCRBY', p .. 'rejects', e.r, 1)
    redis.call('LPUSH', p .. 'rejected', cjson.encode({reason = e.r, detail = e.d, source = e.src, offset = e.o, at = now}))
    redis.call('LTRIM', p .. 'rejected', 0, 9999)
    result[i] = 2
  else
    result[i] = 1
    redis.call('HINCRBY', meta, 'accepted', 1)
    local newest = tonumber(redis.call('HGET', meta, 'newest_ts') or '-1')
    if e.ts > newest then redis.call('HSET', meta, 'newest_ts', e.ts) end

    if e.wk ~= nil then
      -- Weekly cycle: the newest cycle sets the current week and asks for a resync of everyone.
      if set_if_newer(meta, 'week', e.wk, e.ts) then
        redis.call('HINCRBY', meta, 'resync_all', 1)
      end
    end

    if e.k == 'c' then
      local member = 'c:' .. e.cid
      local key = p .. member
      local lc = e.el
      local old_lc = redis.call('HGET', key, 'el')
      local changed = false
      if set_if_newer(key, 'em', e.em, e.ts) then
        changed = true
        if old_lc ~= lc then
          if old_lc then
            local owner = redis.call('HGET', idx, old_lc)
            if owner == member then redis.call('HDEL', idx, old_lc) end
          end
          redis.call('HSET', key, 'el', lc)
        end
        local owner = redis.call('HGET', idx, lc)
        if owner ~= member then
          if owner == 'l:' .. lc then merge_lead(key, lc) end
          redis.call('HSET', idx, lc, member)
        end
      end
      if redis.call('SADD', p .. 'customers', e.cid) == 1 then changed = true end
      if apply_person(key, e) then changed = true end
      if e.a ~= nil then
        for f, v in pairs(e.a) do
          if set_if_newer(key, f, v, e.ts) then changed = true end
        end
      end
      if changed then touch(key, member, e) end
    elseif e.k == 'l' then
      local lc = e.el
      local owner = redis.call('HGET', idx, lc)
      if owner and string.sub(owner, 1, 2) == 'c:' then
        -- A contact entry with a customer's current email is about that customer.
        local key = p .. owner
        if apply_person(key, e) then touch(key, owner, e) end
      else
        local member = 'l:' .. lc
        local key = p .. member
        local changed = false
        if set_if_newer(key, 'em', e.em, e.ts) then changed = true end
        redis.call('HSET', key, 'el', lc)
        if not owner then redis.call('HSET', idx, lc, member) end
        if redis.call('SADD', p .. 'leads', lc) == 1 then changed = true end
        if apply_person(key, e) then changed = true end
        if changed then touch(key, member, e) end
      end
    end
  end
end

return result
