-- AC has the event: off the contact's queue (its first occurrence from the head), one more confirmed copy on the AC
-- contact, its post mark gone. KEYS[1] = the member's events, KEYS[2] = "ks:{t}:evd:<AC id>".
-- ARGV[1] = the queue item, ARGV[2] = the event key.
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HDEL', KEYS[2], T.PostingPrefix .. ARGV[2])
return 1
