"""The Lua scripts behind each board read and write: one round trip, one board each.

Members keep their true score, even at 0 or below (a period board can dip after
a refund); only scores above 0 are ranked, counted and listed. A rank is 1 +
the number of members with a strictly higher score.
"""

__all__ = ["APPLY_ONCE_SCRIPT", "AROUND_SCRIPT", "PAGE_SCRIPT", "STANDING_SCRIPT"]

# A page from a 0-based offset: (total, rank of the first row, member/score pairs).
PAGE_SCRIPT = """
local total = redis.call('ZCOUNT', KEYS[1], '(0', '+inf')
local offset = tonumber(ARGV[1])
local count = math.min(tonumber(ARGV[2]), total - offset)
if count <= 0 then return {total, 0, {}} end
local rows = redis.call('ZREVRANGE', KEYS[1], offset, offset + count - 1, 'WITHSCORES')
local first_rank = redis.call('ZCOUNT', KEYS[1], '(' .. rows[2], '+inf') + 1
return {total, first_rank, rows}
"""

# A member and up to ARGV[2] rows either side: (total, first rank, start, pairs).
AROUND_SCRIPT = """
local total = redis.call('ZCOUNT', KEYS[1], '(0', '+inf')
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= 0 then return {total, 0, 0, {}} end
local at = redis.call('ZREVRANK', KEYS[1], ARGV[1])
local radius = tonumber(ARGV[2])
local start = math.max(0, at - radius)
local stop = math.min(at + radius, total - 1)
local rows = redis.call('ZREVRANGE', KEYS[1], start, stop, 'WITHSCORES')
local first_rank = redis.call('ZCOUNT', KEYS[1], '(' .. rows[2], '+inf') + 1
return {total, first_rank, start, rows}
"""

# One member: (total, position or 0 without a score, score).
STANDING_SCRIPT = """
local total = redis.call('ZCOUNT', KEYS[1], '(0', '+inf')
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= 0 then return {total, 0, score or '0'} end
return {total, redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf') + 1, score}
"""

# Add a delta unless this event was applied to this board already (its marker).
APPLY_ONCE_SCRIPT = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
  local expire_at = tonumber(ARGV[4])
  if expire_at > 0 then redis.call('EXPIREAT', KEYS[1], expire_at) end
  return 1
end
return 0
"""
