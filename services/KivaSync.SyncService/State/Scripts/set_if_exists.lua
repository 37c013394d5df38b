-- Sets fields of a contact hash only while it exists (a lead merged away must not come back as a stub).
-- KEYS[1] = the contact hash. ARGV = field, value pairs (field names from Schema.Contact, chosen in C#).
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 1
