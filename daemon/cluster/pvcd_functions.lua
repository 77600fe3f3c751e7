#!lua name=pvcd
-- pvcd's Redis Functions (loaded with FUNCTION LOAD REPLACE on every master
-- at start-up; they persist and replicate with the data). Key layout:
-- daemon/cluster/cluster_keys.hpp. Every key of a call shares the site's
-- hash tag, so a call runs on one master and replicates as one unit.

-- pvcd_apply: adds one site's part of one flush of one node, exactly once.
--
-- KEYS[1]  the site's applied markers (HASH node -> last applied flush seq)
-- KEYS[2]  the site's all-time total (STRING)
-- KEYS[3]  the site's articles, all-time (ZSET article -> views)
-- then per day of the flush, four keys: the site's day total (STRING), its
-- articles that day (ZSET), the site's month total (STRING), its articles
-- that month (ZSET)
--
-- ARGV: node, seq, prev, then per day: the day's site total, the number of
-- articles N, then N pairs of article and views.
--
-- `prev` is the last flush of this node that held this site (0: none, or not
-- known after a restart: then the stored marker). The flush is applied only
-- when the marker is exactly `prev`:
--   marker >= seq   "dup:MARKER"  already applied (a retry after a lost reply)
--   marker != prev  "gap:MARKER"  an earlier flush is missing: resend from it
--   else            "ok"          applied, marker = seq
local function apply(keys, args)
  local node, seq, prev = args[1], tonumber(args[2]), tonumber(args[3])
  local marker = tonumber(redis.call('HGET', keys[1], node) or '0')
  if marker >= seq then return 'dup:' .. marker end
  if marker ~= prev then return 'gap:' .. marker end
  local day_total = 0
  local a = 4
  local k = 4
  while a <= #args do
    local site_views = args[a]
    local n = tonumber(args[a + 1])
    a = a + 2
    redis.call('INCRBY', keys[k], site_views)
    redis.call('INCRBY', keys[k + 2], site_views)
    day_total = day_total + tonumber(site_views)
    for i = 1, n do
      local article, views = args[a], args[a + 1]
      a = a + 2
      redis.call('ZINCRBY', keys[3], views, article)
      redis.call('ZINCRBY', keys[k + 1], views, article)
      redis.call('ZINCRBY', keys[k + 3], views, article)
    end
    k = k + 4
  end
  redis.call('INCRBY', keys[2], day_total)
  redis.call('HSET', keys[1], node, seq)
  return 'ok'
end

redis.register_function('pvcd_apply', apply)

-- pvcd_title: an article's title as of its change time; an older change
-- (a node that shipped late, or a node re-sending its titles after a
-- restart) never replaces a newer one. An empty title is a removal, kept
-- with its time so an older title cannot come back.
--
-- KEYS[1]  the site's titles (HASH article -> "UNIX_SECONDS TITLE")
-- ARGV     article, unix seconds of the change, title ("" = removed)
local function set_title(keys, args)
  local article, at, title = args[1], tonumber(args[2]), args[3]
  local held = redis.call('HGET', keys[1], article)
  if held then
    local held_at = tonumber(string.match(held, '^(%d+) '))
    if held_at and held_at > at then return 'older' end
  end
  redis.call('HSET', keys[1], article, args[2] .. ' ' .. title)
  return 'ok'
end

redis.register_function('pvcd_title', set_title)
