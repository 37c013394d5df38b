-- AC refused the event for good: off the queue, its post mark gone, no copy confirmed.
-- KEYS[1] = the member's events, KEYS[2] = "ks:{t}:evd:<AC id>". ARGV[1] = the queue item, ARGV[2] = the event key.
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], T.PostingPrefix .. ARGV[2])
return 1
