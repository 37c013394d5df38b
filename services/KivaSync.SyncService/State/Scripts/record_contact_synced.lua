-- Records that AC accepted the contact's own state (before its follow-up work runs). Only while the hash exists: a
-- lead merged into a customer meanwhile must not come back as a stub.
-- KEYS[1] = the contact hash. ARGV[1] = synced version, ARGV[2] = AC id, ARGV[3] = AC email, ARGV[4] = now ms.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], C.SyncedVersion, ARGV[1], C.AcId, ARGV[2], C.AcEmail, ARGV[3], C.SyncedAt, ARGV[4])
end
return 1
