-- Accepts one batch of one tenant atomically: drops duplicates by identity, counts rejections once,
-- folds each customer's and lead's state (per-field last-writer-wins on ts, which equals the
-- contract's fold in ts order) and marks changed contacts dirty for the sync workers.
-- KEYS[KI.*] = the tenant's fixed keys (Schema.IngestKeys), then the batch's own keys (StateStore.IngestAsync): every
-- contact hash and event list its entries name (for a customer also its email's lead, which it may merge), the
-- orders of customers with an order, and the dedup buckets of its identities. All keys share the {t} tag.
-- Keys found at run time -- the member that owns an entry's email now (email index) or owned it before ("former") --
-- are read first and verified: before any write the script reads the owners of the batch's emails, and when one of
-- them is a contact whose keys did not arrive it writes nothing and answers {'keys', <missing keys>}: the caller
-- sends the batch again with them. Why read-and-verify: those owners cannot be computed from the log line, and a
-- write made before finding a missing key could not be undone. During the batch the index only changes to the
-- batch's own members, whose keys are there.
-- The dedup generation (docs/dedup.md) is verified the same way: {'generation', g} when the tenant's generation is
-- ahead of the one the caller computed the bucket keys for, {'rotate', g} when older generations must be dropped
-- first (ingest_rotate.lua, which takes their keys).
-- ARGV[A.*] = the header (Schema.IngestArgs), then the entries, flat (see IngestScriptEntry in C#): no JSON to decode.
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
--! include members.lua
local p = ARGV[A.Prefix]
local meta = KEYS[KI.Meta]
-- Never fold into a Redis that lost the tenant's state (StateGuard): no marker, or one marked lost. Closes the
-- moment between Redis coming back empty and the guard's check.
local mark = redis.call('HMGET', KEYS[KI.Epoch], E.Id, E.Lost)
if not mark[1] or mark[2] then
  return redis.error_reply('KSSTATE the tenant\'s state marker is missing or marked lost')
end
local now = tonumber(ARGV[A.Now])
local nows = ARGV[A.Now] -- as given, for queue scores
local period = tonumber(ARGV[A.DedupPeriod])
local tp = ARGV[A.TraceParent]
if tp == '' then tp = nil end
local rej_max_n = tonumber(ARGV[A.RejectedMaxEntries])
local rej_max_bytes = tonumber(ARGV[A.RejectedMaxBytes])
local dirty = KEYS[KI.Dirty]
local dirty_live = KEYS[KI.DirtyLive]
local idx = KEYS[KI.EmailIndex]
local former = KEYS[KI.FormerEmails]

-- Identities (docs/dedup.md): lasting ones in 65,536 intset buckets "d:<4 hex>"; windowed ones
-- (customer state-only entries and noise, whose replay is harmless) in two rotating generations
-- of 16,384 buckets "r:<gen>:<4 hex>". A generation older than the previous one is dropped whole (ingest_rotate.lua).
local m = redis.call('HMGET', meta, M.DedupGeneration, M.NewestTs)
local gen = tonumber(ARGV[A.DedupGeneration])
local known = tonumber(m[1])
if known and known > gen then
  -- Another replica's clock is ahead: follow the newest generation seen (the caller computes its keys).
  return {A.AnswerGeneration, known}
elseif known and known < gen then
  return {A.AnswerRotate, known}
end

-- The stream's order (IngestStream in C#): a batch is applied only after the stream's previous one for this tenant,
-- which may have been asked for keys and be sent again; until then it writes nothing and answers {'wait'}.
local seq = ARGV[A.StreamSeq]
if seq ~= '' and ARGV[A.StreamAfter] ~= '' and redis.call('GET', KEYS[KI.Stream]) ~= ARGV[A.StreamAfter] then
  return {A.AnswerWait}
end

-- The owners of the batch's emails, read before any write (see the top).
local declared = {}
for k = KI.Count + 1, #KEYS do declared[KEYS[k]] = true end
do
  local emails, leads = {}, {}
  local j, n = A.FirstEntry, #ARGV
  while j <= n do
    local kind = ARGV[j + A.Kind]
    if kind == A.KindRejected then
      j = j + A.RejectedLength
    else
      local np = tonumber(ARGV[j + A.FieldPairs])
      j = j + A.Rest
      if kind == A.KindCustomer or kind == A.KindCustomerWindowed then j = j + 1 end
      if kind ~= A.KindNone and kind ~= A.KindNoneWindowed then
        local lc = ARGV[j + 1]
        if lc == '' then lc = ARGV[j] end
        emails[#emails + 1] = lc
        if kind == A.KindLead then leads[#leads + 1] = lc end
        j = j + 2
      end
      j = j + 2 * np
    end
  end
  local missing, seen = {}, {}
  local function need(member)
    for _, key in ipairs({p .. member, p .. P.Events .. member}) do
      if not declared[key] and not seen[key] then
        seen[key] = true
        missing[#missing + 1] = key
      end
    end
  end
  for s = 1, #emails, 1000 do
    for _, owner in ipairs(redis.call('HMGET', idx, unpack(emails, s, math.min(s + 999, #emails)))) do
      if owner then need(owner) end
    end
  end
  for s = 1, #leads, 1000 do
    for _, f in ipairs(redis.call('HMGET', former, unpack(leads, s, math.min(s + 999, #leads)))) do
      if f then need(string.sub(f, string.find(f, ' ', 1, true) + 1)) end
    end
  end
  if #missing > 0 then return {A.AnswerKeys, unpack(missing)} end
end
if not known then redis.call('HSET', meta, M.DedupGeneration, gen) end
local result = {}
-- The fold's hottest field names as locals (a table lookup less per use).
local f_em, f_el, f_ix, f_ver, f_last, f_ss = C.Email, C.EmailLower, C.IndexStale, C.Version, C.LastEntryTs, C.SubscriberStatus
local t_em, t_ss = C.TsPrefix .. f_em, C.TsPrefix .. f_ss

local newest = tonumber(m[2] or '-1')
local r_cur = p .. P.DedupWindowed .. gen .. ':'
local r_prev = p .. P.DedupWindowed .. (gen - 1) .. ':'
local nqueued = 0
local ev_counts = {}
local unknown = {}

local function first_time(windowed, b, m)
  if windowed then
    if redis.call('SISMEMBER', r_prev .. b, m) == 1 then return false end
    return redis.call('SADD', r_cur .. b, m) == 1
  end
  return redis.call('SADD', p .. P.Dedup .. b, m) == 1
end

-- One contact may change many times in a batch: queue it once. A contact changed by a live entry
-- (ts within the tenant's live threshold, "live_ms" in meta) is also put on the live queue, which
-- the workers drain before the backfill.
local live_from = now - tonumber(redis.call('HGET', meta, M.LiveMs) or '600000')
-- Set when the batch brought history: the workers hold backfill contacts until history stops arriving
-- ("hist_ms" in meta), so each is sent once with its final state (see claim.lua).
local history = false
local queued = {}
local function mark_dirty(member, ts)
  if not queued[member] then
    queued[member] = true
    redis.call('ZADD', dirty, 'NX', nows, member)
  end
  if ts >= live_from and queued[member] ~= 2 then
    queued[member] = 2
    redis.call('ZADD', dirty_live, 'NX', nows, member)
  end
end

-- Single-field last-writer-wins for the rare paths (lead merge, weekly cycle). Returns true when the
-- value changed; a newer ts with the same value only moves the field's ts forward.
local function set_if_newer(key, field, value, ts)
  local tsf = C.TsPrefix .. field
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
local tn = setmetatable({}, {__index = function(t, f) local s = C.TsPrefix .. f; t[f] = s; return s end})

-- Reads what the fold needs of a contact: on its first entry of the batch the email fields, version and
-- newest ts plus the fields (and their ts) the entry carries; on later entries only carried fields not read
-- yet. The hash also holds sync bookkeeping the fold never looks at, so HMGET beats HGETALL here.
local function load(key, e)
  local c = cache[key]
  local list
  if not c then
    list = {f_em, t_em, f_el, f_ix, f_ver, f_last, f_ss, t_ss}
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
    local rv = redis.call('HINCRBY', key, C.RpVersion, 1)
    if c.rplive then out[C.RpLiveVersion] = rv end
    if c.v[f_ss] then redis.call('SADD', KEYS[KI.RecurringPaymentsPending], member_id(string.sub(key, #p + 1))) end
  end
  if c.changed then
    out[f_ver] = num(c.v[f_ver], 0) + 1
    if c.maxts > num(c.v[f_last], -1) then out[f_last] = c.maxtss end
    if tp ~= nil then out[C.TraceParent] = tp end
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
  local key = p .. P.Events .. member
  for j = 1, #q, 1000 do
    redis.call('RPUSH', key, unpack(q, j, math.min(j + 999, #q)))
  end
end

-- A lead that turned customer: its name and phone carry over where newer; its AC contact is the customer's;
-- its queued events are the customer's now. Both hashes are flushed first: this works on Redis directly.
local function merge_lead(ckey, lead_email_lc)
  local lkey = p .. lead_member(lead_email_lc)
  flush(ckey)
  flush(lkey)
  flush_events(lead_member(lead_email_lc))
  if redis.call('EXISTS', lkey) == 0 then return end
  for _, f in ipairs({C.FirstName, C.LastName, C.Phone}) do
    local v = redis.call('HMGET', lkey, f, tn[f])
    if v[1] then set_if_newer(ckey, f, v[1], tonumber(v[2])) end
  end
  local ac = redis.call('HMGET', lkey, C.AcId, C.AcEmail)
  if ac[1] and not redis.call('HGET', ckey, C.AcId) then
    redis.call('HSET', ckey, C.AcId, ac[1], C.AcEmail, ac[2] or '')
  end
  redis.call('DEL', lkey)
  -- The lead's events go first: they were logged before the customer existed. While a worker syncs the lead
  -- they stay on its list: the worker is sending them and takes each off only once AC accepted it, so moving
  -- them now would send them twice; its completion (complete.lua) hands the rest to the customer.
  local lmember = lead_member(lead_email_lc)
  local lev = p .. P.Events .. lmember
  local lead_in_flight = redis.call('ZSCORE', KEYS[KI.InFlight], lmember)
  if not lead_in_flight and redis.call('EXISTS', lev) == 1 then
    local cev = p .. P.Events .. string.sub(ckey, #p + 1)
    flush_events(string.sub(ckey, #p + 1))
    local mine = redis.call('LRANGE', cev, 0, -1)
    redis.call('RENAME', lev, cev)
    for j = 1, #mine, 1000 do
      redis.call('RPUSH', cev, unpack(mine, j, math.min(j + 999, #mine)))
    end
  end
  redis.call('SREM', KEYS[KI.Leads], lead_email_lc)
  redis.call('ZREM', dirty, lmember)
  queued[lmember] = nil
end

-- The customer's recurring payment (subscription) reads these fields: a change of one of them is a change of
-- its values ("bi" is the schedule as the mapping reads it, so a new text that reads the same changes nothing).
-- Those in rp_only are kept for the recurring payment alone: AC's contact does not show them, so they change no
-- contact version (no contact request) -- "ss" latest subscriber status, "pa"/"pc" latest Order Completed total/currency.
local rp_fields = {[f_ss] = true, [C.Box] = true, [C.BillingInterval] = true, [C.NextDelivery] = true, [C.CancelledOn] = true, [C.PaymentCents] = true, [C.PaymentCurrency] = true}
local rp_only = {[f_ss] = true, [C.BillingInterval] = true, [C.PaymentCents] = true, [C.PaymentCurrency] = true}
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
  local old = num(c.v[t_em], -1)
  if e.ts < old then return false, false end
  local changed = c.v[f_em] ~= e.em
  if changed then put(c, f_em, e.em) end
  if e.ts > old then put(c, t_em, e.tss) end
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
  local f = redis.call('HGET', former, lc)
  if f then
    local sp = string.find(f, ' ', 1, true)
    if string.sub(f, sp + 1) == member and tonumber(string.sub(f, 1, sp - 1)) >= ts then return end
  end
  redis.call('HSET', former, lc, tss .. ' ' .. member)
end

local function fold_customer(e)
  local member = customer_member(e.cid)
  local key = p .. member
  local lc = e.el
  local c = load(key, e)
  local is_new = not c.v[t_em]
  local old_lc = c.v[f_el]
  local changed, won = fold_email(c, e)
  local em_changed = changed
  -- ix is set on a customer whose email another customer took over in the email index: only then, for a
  -- new customer or a changed email does the fold look at the index (it saves a read per entry).
  if won and (old_lc ~= lc or c.v[f_ix]) then
    if old_lc ~= lc then
      if old_lc then
        if redis.call('HGET', idx, old_lc) == member then
          redis.call('HDEL', idx, old_lc)
          remember_former(old_lc, member, e.ts, e.tss)
        end
      end
      put(c, f_el, lc)
    end
    if c.v[f_ix] then
      redis.call('HDEL', key, f_ix)
      c.v[f_ix] = nil
    end
    local owner = redis.call('HGET', idx, lc)
    if owner ~= member then
      if owner and is_customer(owner) then
        -- Taking over another customer's email: that one must look at the index again on its next entry.
        redis.call('HSET', p .. owner, f_ix, '1')
        if cache[p .. owner] then cache[p .. owner].v[f_ix] = '1' end
      end
      if owner == lead_member(lc) then
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
    local lkey = p .. lead_member(lc)
    local owner = redis.call('HGET', idx, lc)
    if not owner or owner == lead_member(lc) then remember_former(lc, member, e.ts, e.tss) end
    if owner == lead_member(lc) then
      local lt = cache[lkey] and cache[lkey].v[t_em] or redis.call('HGET', lkey, t_em)
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
    redis.call('SADD', KEYS[KI.Customers], e.cid)
    changed = true
  end
  local fchanged, frp = fold_fields(c, e)
  finish(c, member, e, changed or fchanged, rp or frp)
  return member
end

local function fold_lead(e)
  local lc = e.el
  local owner = redis.call('HGET', idx, lc)
  if owner and is_customer(owner) then
    -- A contact entry with a customer's current email is about that customer.
    local c = load(p .. owner, e)
    finish(c, owner, e, fold_fields(c, e))
    return owner
  end
  local member = lead_member(lc)
  local c = load(p .. member, e)
  if not owner or num(c.v[t_em], -1) > e.ts then
    -- Only a new lead or an entry older than the lead's newest (shipped late) can be a former customer email's.
    local f = redis.call('HGET', former, lc)
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
  local is_new = not c.v[t_em]
  local changed = fold_email(c, e)
  if c.v[f_el] ~= lc then put(c, f_el, lc) end
  if not owner then redis.call('HSET', idx, lc, member) end
  if is_new then
    redis.call('SADD', KEYS[KI.Leads], lc)
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
  local okey = p .. P.Orders .. cid
  local v = redis.call('HMGET', okey, O.TsPrefix .. oid, O.SourcePrefix .. oid, O.CreatedTsPrefix .. oid)
  -- ct: the ts of the order's earliest entry (AC's storeCreatedDate), whatever order the entries arrive in.
  if not v[3] or ts < tonumber(v[3]) then redis.call('HSET', okey, O.CreatedTsPrefix .. oid, tss) end
  if ts < tonumber(v[1] or '-1') then return end
  if v[2] then
    redis.call('HSET', okey, oid, string.sub(od, 2, nl - 1), O.TsPrefix .. oid, tss)
  else
    redis.call('HSET', okey, oid, string.sub(od, 2, nl - 1), O.TsPrefix .. oid, tss, O.SourcePrefix .. oid, string.sub(od, 1, 1))
  end
  redis.call('SADD', p .. P.OrdersPending .. cid, oid)
  mark_dirty(customer_member(cid), ts)
end

local accepted = 0
local nres = 0
-- One table reused for every entry: the fold only reads it while the entry is processed.
local e = {}
local batch_newest = newest
local reject_counts = {}
local rejected = {}
local i = A.FirstEntry
local n = #ARGV
while i <= n do
  local kind = ARGV[i + A.Kind]
  local fresh = first_time(kind == A.KindCustomerWindowed or kind == A.KindNoneWindowed, ARGV[i + A.Bucket], ARGV[i + A.DedupMember])
  if kind == A.KindRejected then
    if fresh then
      local reason = ARGV[i + A.RejectReason]
      reject_counts[reason] = (reject_counts[reason] or 0) + 1
      -- The record comes built and cut to its bound (StoredText.RejectionRecord in C#).
      rejected[#rejected + 1] = ARGV[i + A.RejectRecord]
      nres = nres + 1; result[nres] = 2
    else
      nres = nres + 1; result[nres] = 0
    end
    i = i + A.RejectedLength
  else
    local tss = ARGV[i + A.Ts]
    e.ts = tonumber(tss); e.tss = tss; e.cid = nil; e.em = nil; e.el = nil
    local wk = ARGV[i + A.Week]
    local ev = ARGV[i + A.Event]
    local od = ARGV[i + A.Order]
    e.np = tonumber(ARGV[i + A.FieldPairs])
    i = i + A.Rest
    if kind == A.KindCustomer or kind == A.KindCustomerWindowed then
      e.cid = ARGV[i]
      i = i + 1
    end
    if kind ~= A.KindNone and kind ~= A.KindNoneWindowed then
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
        if set_if_newer(meta, M.Week, wk, e.ts) then
          redis.call('HINCRBY', meta, M.ResyncAll, 1)
        end
      end

      local member
      if kind == A.KindCustomer or kind == A.KindCustomerWindowed then
        member = fold_customer(e)
      elseif kind == A.KindLead then
        member = fold_lead(e)
      end
      if ev ~= '' then
        local c = string.sub(ev, 1, 1)
        if c == A.EventUnknown then
          local name = string.sub(ev, 2)
          unknown[name] = (unknown[name] or 0) + 1
        elseif c == A.EventHistoricalNotSent and #ev == 1 then
          ev_counts[M.EventsHistoricalNotSent] = (ev_counts[M.EventsHistoricalNotSent] or 0) + 1
        elseif c == A.EventWithoutContact and #ev == 1 then
          ev_counts[M.EventsWithoutContact] = (ev_counts[M.EventsWithoutContact] or 0) + 1
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
if history then redis.call('HSET', meta, M.HistoryMs, now) end
-- A stream lives at most ~33 min (its connection's maximum age): an hour outlives it.
if seq ~= '' then redis.call('SET', KEYS[KI.Stream], seq, 'PX', 3600000) end
if accepted > 0 then
  redis.call('HINCRBY', meta, M.Accepted, accepted)
  if batch_newest > newest then redis.call('HSET', meta, M.NewestTs, batch_newest) end
end
if nqueued > 0 then redis.call('HINCRBY', meta, M.EventsQueued, nqueued) end
for name, n in pairs(ev_counts) do redis.call('HINCRBY', meta, name, n) end
for name, n in pairs(unknown) do redis.call('HINCRBY', KEYS[KI.UnknownEvents], name, n) end
-- The latest rejections, newest first, bounded in records and in bytes ("rej_bytes" in meta: the list's bytes).
-- Only the newest records that fit are pushed; then the oldest go until both bounds hold.
if #rejected > 0 then
  for reason, n in pairs(reject_counts) do redis.call('HINCRBY', KEYS[KI.Rejects], reason, n) end
  local rkey = KEYS[KI.Rejected]
  local len = redis.call('LLEN', rkey)
  local total = tonumber(redis.call('HGET', meta, M.RejectedBytes) or '')
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
  redis.call('HSET', meta, M.RejectedBytes, total)
end

return result
