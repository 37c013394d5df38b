-- Pauses a budget (Retry-After), only ever extending a pause. KEYS[1] = the pause key. ARGV[1] = ms.
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
