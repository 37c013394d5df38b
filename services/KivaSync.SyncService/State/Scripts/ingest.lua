-- Accepts one batch of one tenant atomically: drops duplicates by identity, counts rejections once,
-- folds each customer's and lead's state (per-field last-writer-wins on ts, which equals the
-- contract's fold in ts order) and marks changed contacts dirty for the sync workers.
-- KEYS[1] = the tenant's meta hash "ks:{t}:meta"; every other key is derived with the same {t} tag,
-- so the whole script runs on one Redis Cluster slot.
-- ARGV[1] = key prefix "ks:{t}:", ARGV[2] = now (unix ms, for queue scores),
-- ARGV[3] = the dedup window's generation length in ms (see docs/dedup.md),
-- ARGV[4] = traceparent of the batch ("" none), ARGV[5] / ARGV[6] = most records / bytes the tenant's list of
-- rejections keeps, ARGV[7..] = the entries, flat (see IngestScriptEntry in C#): no JSON to decode.
-- Returns an array with one code per entry: 1 accepted, 2 rejected (first time), 0 duplicate.
--
-- A script's writes are not undone when it fails, so nothing here may fail on the batch's size: every
-- command that takes a batch-sized list of arguments gets it in slices of 1000 (Lua's unpack stops near 8000).
--
-- Events are never coalesced: each goes on its contact's queue "ev:<member>", a list in arrival order
-- (within a file that is ts order); one RPUSH per contact per batch, O(1) however long the queue.
-- Paid orders are kept per customer in "o:<id>" (last writer by ts wins) and listed in "op:<id>" until AC has them.
--
-- Cost per entry is what makes ingest fast: one dedup SADD per entry; one HMGET and one HSET per contact
-- per batch (however many entries name it), a ZADD to the work queue only when a value really changed and
-- one RPUSH per contact for its events; counters are written once per batch. Timestamps stay the strings
-- they came as when stored (a Lua number would be formatted with printf on every write).
local p = ARGV[1]
-- Never fold into a Redis that lost the tenant's state (StateGuard): no marker, or one marked lost. Closes the
-- moment between Redis coming back empty and the guard's check.
local mark = redis.call('HMGET', p .. 'epoch', 'id', 'lost')
if not mark[1] or mark[2] then
  return redis.error_reply('KSSTATE the tenant\'s state marker is missing or marked lost')
end
local now = tonumber(ARGV[2])
local nows = ARGV[2] -- as given, for queue scores
local period = tonumber(ARGV[3])
local tp = ARGV[4]
if tp == '' then tp = nil end
local rej_max_n = tonumber(ARGV[5])
local rej_max_bytes = tonumber(ARGV[6])
local meta = KEYS[1]
local dirty = p .. 'dirty'
local idx = p .. 'email'
local result = {}

-- Identities (docs/dedup.md): lasting ones in 65,536 intset buckets "d:<4 hex>"; windowed ones
-- (customer state-only entries and noise, whose replay is harmless) in two rotating generations
-- of 16,384 buckets "r:<gen>:<4 hex>". A generation older than the previous one is dropped whole.
local m = redis.call('HMGET', meta, 'dgen', 'newest_ts')
local gen = math.floor(now / period)
local known = tonumber(m[1])
if known and known > gen then
  -- Another replica's clock is ahead: follow the newest generation seen.
  gen = known
elseif known == nil or known < gen then
  if known then
    for g = known - 1, known do
      if g < gen - 1 then
        for b = 0, 16383 do redis.call('UNLINK', p .. 'r:' .. g .. ':' .. string.format('%04x', b)) end
      end
    end
  end
  redis.call('HSET', meta, 'dgen', gen)
end
local newest = tonumber(m[2] or '-1')
local r_cur = p .. 'r:' .. gen .. ':'
local r_prev = p .. 'r:' .. (gen - 1) .. ':'
local nqueued = 0
local ev_counts = {}
local unknown = {}

local function first_time(windowed, b, m)
  if windowed then
    if redis.call('SISMEMBER', r_prev .. b, m) == 1 then return false end
    return redis.call('SADD', r_cur .. b, m) == 1
  end
  return redis.call('SADD', p .. 'd:' .. b, m) == 1
end

-- One contact may change many times in a batch: queue it once. A contact changed by a live entry
-- (ts within the tenant's live threshold, "live_ms" in meta) is also put on the live queue, which
-- the workers drain before the backfill.
local live_from = now - tonumber(redis.call('HGET', meta, 'live_ms') or '600000')
-- Set when the batch brought history: the workers hold backfill contacts until history stops arriving
-- ("hist_ms" in meta), so each is sent once with its final state (see claim.lua).
local history = false
local queued = {}
local function mark_dirty(member, ts)
  if not queued[member] then
    queued[member] = true
    redis.call('ZADD', dirty, 'NX', nows, member)
  end
  if ts >= live_from and queued[member] ~= 'live' then
    queued[member] = 'live'
    redis.call('ZADD', dirty .. ':live', 'NX', nows, member)
  end
end

-- Single-field last-writer-wins for the rare paths (lead merge, weekly cycle). Returns true when the
-- value changed; a newer ts with the same value only moves the field's ts forward.
local function set_if_newer(key, field, value, ts)
  local tsf = 't:' .. field
  local v = redis.call('HMGET', key, field, tsf)
  local old = tonumber(v[2] or '-1')
  if ts < old then return false end
  if v[1] == value then
    if ts > old then redis.call('HSET', key, tsf, ts) end
    return false
  end
  redis.call('HSET', key, field, value, tsf, ts)
  return true
end

local function num(x, d)
  if x then return tonumber(x) or d end
  return d
end

-- Each contact is read once (a field first carried by a later entry: when it comes) and written once per
-- batch, however many of the batch's entries name it:
-- cache[key] = {v = field -> value (nil = absent), have = fields read, out = field -> value to write,
-- changed, maxts (and maxtss, the same as given)}.
-- The fold is per-field last-writer-wins on ts, so folding a contact's entries in the batch's order
-- against the cached values is exactly folding them one by one against Redis.
local cache = {}

-- The ts field of each carried field ("t:st" for "st"), made once per name.
local tn = setmetatable({}, {__index = function(t, f) local s = 't:' .. f; t[f] = s; return s end})

-- Reads what the fold needs of a contact: on its first entry of the batch the email fields, version and
-- newest ts plus the fields (and their ts) the entry carries; on later entries only carried fields not read
-- yet. The hash also holds sync bookkeeping the fold never looks at, so HMGET beats HGETALL here.
local function load(key, e)
  local c = cache[key]
  local list
  if not c then
    list = {'em', 't:em', 'el', 'ix', 'ver', 'last_ts', 'ss', 't:ss'}
    local have = {}
    for j = 1, #list do have[list[j]] = true end
    c = {v = {}, have = have, out = {}, changed = false, maxts = -1, maxtss = nil}
    cache[key] = c
  else
    list = {}
  end
  if e then
    local have = c.have
    for j = e.at, e.at + 2 * e.np - 1, 2 do
      local f = ARGV[j]
      if not have[f] then
        have[f] = true
        list[#list + 1] = f
        list[#list + 1] = tn[f]
      end
    end
  end
  if #list > 0 then
    local r = redis.call('HMGET', key, unpack(list))
    local v = c.v
    for j = 1, #list do
      if r[j] then v[list[j]] = r[j] end
    end
  end
  return c
end

local function put(c, f, val)
  c.v[f] = val
  c.out[f] = val
end

-- Writes a cached contact in one HSET (a changed one gets a new version) and drops it from the cache.
local function flush(key)
  local c = cache[key]
  if not c then return end
  cache[key] = nil
  local out = c.out
  if c.rp then
    -- A recurring payment value changed: a new recurring payment version ("rpv"; "rplv" the version of the
    -- latest live change, so suppressAutomations is rplv <= the version last sent) and, for a subscriber,
    -- pending in the tenant's "rpp" until AC has it.
    local rv = redis.call('HINCRBY', key, 'rpv', 1)
    if c.rplive then out['rplv'] = rv end
    if c.v['ss'] then redis.call('SADD', p .. 'rpp', string.sub(key, #p + 3)) end
  end
  if c.changed then
    out['ver'] = num(c.v['ver'], 0) + 1
    if c.maxts > num(c.v['last_ts'], -1) then out['last_ts'] = c.maxtss end
    if tp ~= nil then out['tp'] = tp end
  end
  local flat = {}
  for f, val in pairs(out) do flat[#flat + 1] = f; flat[#flat + 1] = val end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end

-- Events queued in this batch per member, written with one ZADD per contact at the end.
local evq = {}
local function flush_events(member)
  local q = evq[member]
  if not q then return end
  evq[member] = nil
  local key = p .. 'ev:' .. member
  for j = 1, #q, 1000 do
    redis.call('RPUSH', key, unpack(q, j, math.min(j + 999, #q)))
  end
end

-- A lead that turned customer: its name and phone carry over where newer; its AC contact is the customer's;
-- its queued events are the customer's now. Both hashes are flushed first: this works on Redis directly.
local function merge_lead(ckey, lead_email_lc)
  local lkey = p .. 'l:' .. lead_email_lc
  flush(ckey)
  flush(lkey)
  flush_events('l:' .. lead_email_lc)
  if redis.call('EXISTS', lkey) == 0 then return end
  for _, f in ipairs({'fn', 'ln', 'ph'}) do
    local v = redis.call('HMGET', lkey, f, 't:' .. f)
    if v[1] then set_if_newer(ckey, f, v[1], tonumber(v[2])) end
  end
  local ac = redis.call('HMGET', lkey, 'ac_id', 'ac_email')
  if ac[1] and not redis.call('HGET', ckey, 'ac_id') then
    redis.call('HSET', ckey, 'ac_id', ac[1], 'ac_email', ac[2] or '')
  end
  redis.call('DEL', lkey)
  -- The lead's events go first: they were logged before the customer existed. While a worker syncs the lead
  -- they stay on its list: the worker is sending them and takes each off only once AC accepted it, so moving
  -- them now would send them twice; its completion (complete.lua) hands the rest to the customer.
  local lmember = 'l:' .. lead_email_lc
  local lev = p .. 'ev:' .. lmember
  local lead_in_flight = redis.call('ZSCORE', p .. 'inflight', lmember)
  if not lead_in_flight and redis.call('EXISTS', lev) == 1 then
    local cev = p .. 'ev:' .. string.sub(ckey, #p + 1)
    flush_events(string.sub(ckey, #p + 1))
    local mine = redis.call('LRANGE', cev, 0, -1)
    redis.call('RENAME', lev, cev)
    for j = 1, #mine, 1000 do
      redis.call('RPUSH', cev, unpack(mine, j, math.min(j + 999, #mine)))
    end
  end
  redis.call('SREM', p .. 'leads', lead_email_lc)
  redis.call('ZREM', dirty, lmember)
  queued[lmember] = nil
end

-- The customer's recurring payment (subscription) reads these fields: a change of one of them is a change of
-- its values ("bi" is the schedule as the mapping reads it, so a new text that reads the same changes nothing).
-- Those in rp_only are kept for the recurring payment alone: AC's contact does not show them, so they change no
-- contact version (no contact request) -- "ss" latest subscriber status, "pa"/"pc" latest Order Completed total/currency.
local rp_fields = {ss = true, bx = true, bi = true, nd = true, co = true, pa = true, pc = true}
local rp_only = {ss = true, bi = true, pa = true, pc = true}
local function rp_changed(c, e)
  c.rp = true
  if e.ts >= live_from then c.rplive = true end
end

-- Per-field last-writer-wins of the entry's carried fields (ARGV e.at .. e.at + 2 * e.np - 1) against
-- the cached values; returns whether a contact value changed (a replay changes nothing, writes nothing)
-- and whether a recurring payment value changed (also kept in c.rp; c.rplive: by a live entry).
local function fold_fields(c, e)
  local changed = false
  local rp = false
  local ts = e.ts
  local v = c.v
  for j = e.at, e.at + 2 * e.np - 1, 2 do
    local f, val = ARGV[j], ARGV[j + 1]
    local tsf = tn[f]
    local old = num(v[tsf], -1)
    if ts >= old then
      if v[f] ~= val then
        put(c, f, val)
        if not rp_only[f] then changed = true end
        if rp_fields[f] then rp = true end
      end
      if ts > old then put(c, tsf, e.tss) end
    end
  end
  if rp then rp_changed(c, e) end
  return changed, rp
end

-- The email of a contact's own hash; returns whether the value changed and whether ts won.
local function fold_email(c, e)
  local old = num(c.v['t:em'], -1)
  if e.ts < old then return false, false end
  local changed = c.v['em'] ~= e.em
  if changed then put(c, 'em', e.em) end
  if e.ts > old then put(c, 't:em', e.tss) end
  return changed, true
end

-- A changed contact is queued and gets a new version when it is written; a changed recurring payment
-- (rp) queues the contact too (its follow-up sends it), without a new contact version.
local function finish(c, member, e, changed, rp)
  if changed then
    c.changed = true
    if e.ts > c.maxts then c.maxts = e.ts; c.maxtss = e.tss end
    mark_dirty(member, e.ts)
  elseif rp then
    mark_dirty(member, e.ts)
  end
end

-- "former": lower-cased email -> "<ts> c:<id>", the customer that left it and when: the ts of the entry that moved it
-- to another email (or of a late entry that still shows the email, if newer). A contact entry with that email older
-- than ts, shipped late (an archive after the live file), is that customer's: in ts order it was the customer's
-- current email then, or a lead that became this customer.
local function remember_former(lc, member, ts, tss)
  local f = redis.call('HGET', p .. 'former', lc)
  if f then
    local sp = string.find(f, ' ', 1, true)
    if string.sub(f, sp + 1) == member and tonumber(string.sub(f, 1, sp - 1)) >= ts then return end
  end
  redis.call('HSET', p .. 'former', lc, tss .. ' ' .. member)
end

local function fold_customer(e)
  local member = 'c:' .. e.cid
  local key = p .. member
  local lc = e.el
  local c = load(key, e)
  local is_new = not c.v['t:em']
  local old_lc = c.v['el']
  local changed, won = fold_email(c, e)
  local em_changed = changed
  -- ix is set on a customer whose email another customer took over in the email index: only then, for a
  -- new customer or a changed email does the fold look at the index (it saves a read per entry).
  if won and (old_lc ~= lc or c.v['ix']) then
    if old_lc ~= lc then
      if old_lc then
        if redis.call('HGET', idx, old_lc) == member then
          redis.call('HDEL', idx, old_lc)
          remember_former(old_lc, member, e.ts, e.tss)
        end
      end
      put(c, 'el', lc)
    end
    if c.v['ix'] then
      redis.call('HDEL', key, 'ix')
      c.v['ix'] = nil
    end
    local owner = redis.call('HGET', idx, lc)
    if owner ~= member then
      if owner and string.sub(owner, 1, 2) == 'c:' then
        -- Taking over another customer's email: that one must look at the index again on its next entry.
        redis.call('HSET', p .. owner, 'ix', '1')
        if cache[p .. owner] then cache[p .. owner].v['ix'] = '1' end
      end
      if owner == 'l:' .. lc then
        merge_lead(key, lc)
        changed = true
        -- The merge wrote name and phone: fold this entry's fields over the merged values.
        c = load(key, e)
      end
      redis.call('HSET', idx, lc, member)
    end
  elseif not won and old_lc ~= lc then
    -- An older entry (an archive shipped after the live file) with an email this customer has left since. A lead
    -- with that email whose entries are all no newer than this one is this customer's: in ts order it turned
    -- customer here at the latest. Merge it as the in-order fold did; the email stays nobody's now. Unless another
    -- customer has the email now, "former" learns the customer had it at this ts (late forms older than that are its).
    local lkey = p .. 'l:' .. lc
    local owner = redis.call('HGET', idx, lc)
    if not owner or owner == 'l:' .. lc then remember_former(lc, member, e.ts, e.tss) end
    if owner == 'l:' .. lc then
      local lt = cache[lkey] and cache[lkey].v['t:em'] or redis.call('HGET', lkey, 't:em')
      if num(lt, -1) <= e.ts then
        merge_lead(key, lc)
        redis.call('HDEL', idx, lc)
        changed = true
        c = load(key, e)
      end
    end
  end
  -- The recurring payment carries the customer's current email.
  local rp = em_changed
  if rp then rp_changed(c, e) end
  if is_new then
    redis.call('SADD', p .. 'customers', e.cid)
    changed = true
  end
  local fchanged, frp = fold_fields(c, e)
  finish(c, member, e, changed or fchanged, rp or frp)
  return member
end

local function fold_lead(e)
  local lc = e.el
  local owner = redis.call('HGET', idx, lc)
  if owner and string.sub(owner, 1, 2) == 'c:' then
    -- A contact entry with a customer's current email is about that customer.
    local c = load(p .. owner, e)
    finish(c, owner, e, fold_fields(c, e))
    return owner
  end
  local member = 'l:' .. lc
  local c = load(p .. member, e)
  if not owner or num(c.v['t:em'], -1) > e.ts then
    -- Only a new lead or an entry older than the lead's newest (shipped late) can be a former customer email's.
    local f = redis.call('HGET', p .. 'former', lc)
    if f then
      local sp = string.find(f, ' ', 1, true)
      -- Strictly older: at an equal ts the file order decides, and in one file the email had been left by then.
      if e.ts < tonumber(string.sub(f, 1, sp - 1)) then
        local cm = string.sub(f, sp + 1)
        local cc = load(p .. cm, e)
        finish(cc, cm, e, fold_fields(cc, e))
        return cm
      end
    end
  end
  local is_new = not c.v['t:em']
  local changed = fold_email(c, e)
  if c.v['el'] ~= lc then put(c, 'el', lc) end
  if not owner then redis.call('HSET', idx, lc, member) end
  if is_new then
    redis.call('SADD', p .. 'leads', lc)
    changed = true
  end
  if fold_fields(c, e) then changed = true end
  finish(c, member, e, changed)
  return member
end

-- Queues the entry's event for its contact; the contact is queued for a sync even if its state did not change.
local function queue_event(member, ev, ts)
  nqueued = nqueued + 1
  local q = evq[member]
  if not q then q = {}; evq[member] = q end
  q[#q + 1] = ev
  mark_dirty(member, ts)
end

-- Stores a customer's paid order, last writer by ts wins; its source is the one of the first entry stored.
local function store_order(cid, od, ts, tss)
  local nl = string.find(od, '\n', 2, true)
  local oid = string.sub(od, nl + 1)
  local okey = p .. 'o:' .. cid
  local v = redis.call('HMGET', okey, 't:' .. oid, 'src:' .. oid, 'ct:' .. oid)
  -- ct: the ts of the order's earliest entry (AC's storeCreatedDate), whatever order the entries arrive in.
  if not v[3] or ts < tonumber(v[3]) then redis.call('HSET', okey, 'ct:' .. oid, tss) end
  if ts < tonumber(v[1] or '-1') then return end
  if v[2] then
    redis.call('HSET', okey, oid, string.sub(od, 2, nl - 1), 't:' .. oid, tss)
  else
    redis.call('HSET', okey, oid, string.sub(od, 2, nl - 1), 't:' .. oid, tss, 'src:' .. oid, string.sub(od, 1, 1))
  end
  redis.call('SADD', p .. 'op:' .. cid, oid)
  mark_dirty('c:' .. cid, ts)
end

local accepted = 0
local nres = 0
-- One table reused for every entry: the fold only reads it while the entry is processed.
local e = {}
local batch_newest = newest
local reject_counts = {}
local rejected = {}
local i = 7
local n = #ARGV
while i <= n do
  local kind = ARGV[i]
  local fresh = first_time(kind == 'cw' or kind == 'nw', ARGV[i + 1], ARGV[i + 2])
  if kind == 'r' then
    if fresh then
      reject_counts[ARGV[i + 3]] = (reject_counts[ARGV[i + 3]] or 0) + 1
      -- The record comes built and cut to its bound (StoredText.RejectionRecord in C#).
      rejected[#rejected + 1] = ARGV[i + 4]
      nres = nres + 1; result[nres] = 2
    else
      nres = nres + 1; result[nres] = 0
    end
    i = i + 5
  else
    local tss = ARGV[i + 3]
    e.ts = tonumber(tss); e.tss = tss; e.cid = nil; e.em = nil; e.el = nil
    local wk = ARGV[i + 4]
    local ev = ARGV[i + 5]
    local od = ARGV[i + 6]
    e.np = tonumber(ARGV[i + 7])
    i = i + 8
    if kind == 'c' or kind == 'cw' then
      e.cid = ARGV[i]
      i = i + 1
    end
    if kind ~= 'n' and kind ~= 'nw' then
      e.em = ARGV[i]
      e.el = ARGV[i + 1]
      if e.el == '' then e.el = e.em end
      i = i + 2
    end
    e.at = i
    i = i + 2 * e.np
    if not fresh then
      nres = nres + 1; result[nres] = 0
    else
      nres = nres + 1; result[nres] = 1
      accepted = accepted + 1
      if e.ts > batch_newest then batch_newest = e.ts end
      if e.ts < live_from then history = true end

      if wk ~= '' then
        -- Weekly cycle: the newest cycle sets the current week and asks for a resync of everyone.
        if set_if_newer(meta, 'week', wk, e.ts) then
          redis.call('HINCRBY', meta, 'resync_all', 1)
        end
      end

      local member
      if kind == 'c' or kind == 'cw' then
        member = fold_customer(e)
      elseif kind == 'l' then
        member = fold_lead(e)
      end
      if ev ~= '' then
        local c = string.sub(ev, 1, 1)
        if c == '!' then
          local name = string.sub(ev, 2)
          unknown[name] = (unknown[name] or 0) + 1
        elseif c == '-' and #ev == 1 then
          ev_counts['ev_historical_not_sent'] = (ev_counts['ev_historical_not_sent'] or 0) + 1
        elseif c == '~' and #ev == 1 then
          ev_counts['ev_without_contact'] = (ev_counts['ev_without_contact'] or 0) + 1
        elseif member then
          queue_event(member, ev, e.ts)
        end
      end
      if od ~= '' and e.cid then store_order(e.cid, od, e.ts, e.tss) end
    end
  end
end

for key in pairs(cache) do flush(key) end
for member in pairs(evq) do flush_events(member) end
if history then redis.call('HSET', meta, 'hist_ms', now) end
if accepted > 0 then
  redis.call('HINCRBY', meta, 'accepted', accepted)
  if batch_newest > newest then redis.call('HSET', meta, 'newest_ts', batch_newest) end
end
if nqueued > 0 then redis.call('HINCRBY', meta, 'ev_queued', nqueued) end
for name, n in pairs(ev_counts) do redis.call('HINCRBY', meta, name, n) end
for name, n in pairs(unknown) do redis.call('HINCRBY', p .. 'unknown_events', name, n) end
-- The latest rejections, newest first, bounded in records and in bytes ("rej_bytes" in meta: the list's bytes).
-- Only the newest records that fit are pushed; then the oldest go until both bounds hold.
if #rejected > 0 then
  for reason, n in pairs(reject_counts) do redis.call('HINCRBY', p .. 'rejects', reason, n) end
  local rkey = p .. 'rejected'
  local len = redis.call('LLEN', rkey)
  local total = tonumber(redis.call('HGET', meta, 'rej_bytes') or '')
  if len == 0 then
    total = 0
  elseif not total then
    -- A list from before the byte count: measured once, in slices.
    total = 0
    for j = 0, len - 1, 100 do
      for _, r in ipairs(redis.call('LRANGE', rkey, j, j + 99)) do total = total + #r end
    end
  end
  local from = #rejected + 1
  local added = 0
  while from > 1 and #rejected - from + 1 < rej_max_n and added + #rejected[from - 1] <= rej_max_bytes do
    from = from - 1
    added = added + #rejected[from]
  end
  for j = from, #rejected, 1000 do
    redis.call('LPUSH', rkey, unpack(rejected, j, math.min(j + 999, #rejected)))
  end
  len = len + #rejected - from + 1
  total = total + added
  while len > 0 and (len > rej_max_n or total > rej_max_bytes) do
    local old = redis.call('RPOP', rkey)
    if not old then len = 0; total = 0; break end
    len = len - 1
    total = total - #old
  end
  if len == 0 then total = 0 end
  redis.call('HSET', meta, 'rej_bytes', total)
end

return result
