import { LuaScript } from './connection.js';

/** `now` in ms by the Redis clock, shared by every script that judges expiry. */
const NOW = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`;

// ---------------------------------------------------------------- registry

/** KEYS: node, index. ARGV: json, ttlMs, id. Returns 1 when the record existed. */
export const REGISTER = new LuaScript(`${NOW}
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
return existed`);

/** KEYS: node, index. ARGV: id. Returns 1 when the record was there. */
export const DEREGISTER = new LuaScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n`);

/** KEYS: index. Prunes expired ids and returns the live ones. */
export const LIST_NODES = new LuaScript(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`);

/**
 * KEYS: lease, fence. ARGV: holder, ttlMs. Renews for the same holder (same token); takes a free
 * lease with SET NX PX and a new token from INCR. Returns {token, expiresAt} or nil.
 */
export const LEASE_ACQUIRE = new LuaScript(`${NOW}
local ttl = tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ':', 1, true)
  if string.sub(cur, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ttl)
    return {tonumber(string.sub(cur, 1, sep - 1)), now + ttl}
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
if not redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ttl) then return false end
return {token, now + ttl}`);

/** KEYS: lease. ARGV: `<token>:<holder>`, ttlMs. Compare-and-extend; returns expiresAt or nil. */
export const LEASE_RENEW = new LuaScript(`${NOW}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return now + tonumber(ARGV[2])`);

/** KEYS: lease. ARGV: `<token>:<holder>`. Compare-and-delete. */
export const LEASE_RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

// ---------------------------------------------------------------- sessions

/** Extend an index set's TTL to at least `ttl` (never shorten it). */
const EXTEND = `local function extend(key, ttl)
  local cur = redis.call('PTTL', key)
  if cur >= 0 and cur < ttl then redis.call('PEXPIRE', key, ttl) end
  if cur == -1 then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * KEYS: session, nodeSet, userSet (or the empty-user placeholder), ARGV: ttl, prefix-less ids:
 * id, nodeId, userId ('' for none), rec JSON, updatedAt, then room/cursor pairs.
 * Moves the index entries of a replaced session.
 */
export const SESSION_PUT = new LuaScript(`${EXTEND}
local ttl = tonumber(ARGV[1])
local id = ARGV[2]
local old = redis.call('HMGET', KEYS[1], 'node', 'user')
if old[1] and old[1] ~= ARGV[3] then redis.call('SREM', ARGV[#ARGV - 1] .. old[1], id) end
if old[2] and old[2] ~= '' and old[2] ~= ARGV[4] then redis.call('SREM', ARGV[#ARGV] .. old[2], id) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'node', ARGV[3], 'user', ARGV[4], 'rec', ARGV[5], 'upd', ARGV[6])
for i = 7, #ARGV - 2, 2 do redis.call('HSET', KEYS[1], 'r:' .. ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SADD', KEYS[2], id)
extend(KEYS[2], ttl)
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[3], id)
  extend(KEYS[3], ttl)
end
return 1`);

/** KEYS: session. ARGV: ttl, nodeSetPrefix, userSetPrefix. Extends the session and its index sets. */
export const SESSION_TOUCH = new LuaScript(`${EXTEND}
local ttl = tonumber(ARGV[1])
if redis.call('PEXPIRE', KEYS[1], ttl) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'node', 'user')
if f[1] then extend(ARGV[2] .. f[1], ttl) end
if f[2] and f[2] ~= '' then extend(ARGV[3] .. f[2], ttl) end
return 1`);

/** KEYS: session. ARGV: id, nodeSetPrefix, userSetPrefix. */
export const SESSION_DELETE = new LuaScript(`
local f = redis.call('HMGET', KEYS[1], 'node', 'user')
if f[1] then redis.call('SREM', ARGV[2] .. f[1], ARGV[1]) end
if f[2] and f[2] ~= '' then redis.call('SREM', ARGV[3] .. f[2], ARGV[1]) end
return redis.call('DEL', KEYS[1])`);

/** KEYS: session. ARGV: field, value, updatedAt. Sets a field only on a live session. */
export const SESSION_SET_FIELD = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'upd', ARGV[3])
return 1`);

/** KEYS: session. ARGV: field, updatedAt. */
export const SESSION_DEL_FIELD = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], 'upd', ARGV[2])
return 1`);

/**
 * KEYS: fromSet, then per session: session key, target node set.
 * ARGV: fromNode, updatedAt, then per session: id, target node.
 * Moves each session only while it is still on fromNode; returns 1/0 per session.
 */
export const SESSION_REASSIGN = new LuaScript(`${EXTEND}
local out = {}
local n = (#KEYS - 1) / 2
for i = 1, n do
  local skey = KEYS[2 * i]
  local tkey = KEYS[2 * i + 1]
  local id = ARGV[1 + 2 * i]
  local to = ARGV[2 + 2 * i]
  if redis.call('HGET', skey, 'node') == ARGV[1] then
    redis.call('HSET', skey, 'node', to, 'upd', ARGV[2])
    redis.call('SREM', KEYS[1], id)
    redis.call('SADD', tkey, id)
    local ttl = redis.call('PTTL', skey)
    if ttl > 0 then extend(tkey, ttl) end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`);

// ---------------------------------------------------------------- history

/**
 * Age trim: drops entries whose field 't' (append time, ms) is older than now - maxAge,
 * by XTRIM MINID, reading the head in batches.
 */
const TRIM_AGE = `local function trimAge(stream, maxAge, now)
  if maxAge <= 0 then return end
  local cutoff = now - maxAge
  while true do
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)
    if #batch == 0 then return end
    for _, e in ipairs(batch) do
      if tonumber(e[2][2]) >= cutoff then
        redis.call('XTRIM', stream, 'MINID', e[1])
        return
      end
    end
    local last = batch[#batch][1]
    local off = tonumber(string.sub(last, 1, string.find(last, '-', 1, true) - 1))
    redis.call('XTRIM', stream, 'MINID', (off + 1) .. '-0')
  end
end
`;

/** The meta hash; a missing one means a fresh stream with a new epoch (stale entries go). */
const META = `local function meta(stream, m, newEpoch, maxAge)
  local epoch = redis.call('HGET', m, 'epoch')
  if not epoch then
    redis.call('DEL', stream)
    redis.call('HSET', m, 'epoch', newEpoch, 'seq', 0)
    if maxAge > 0 then redis.call('PEXPIRE', m, maxAge) end
    epoch = newEpoch
  end
  return epoch
end
`;

/**
 * KEYS: stream, meta, writer. ARGV: payload, maxLen, maxAgeMs, newEpoch, writer seq.
 * Allocates the next offset (HINCRBY), XADDs `<offset>-0` with fields t (ms) and d (payload),
 * trims exactly by length and by age. Returns {offset, epoch}.
 *
 * Idempotent per writer: the writer hash holds `<writer seq> -> <offset>:<epoch>` for the
 * writer's recent appends to this stream (at least its last 64; the hash expires 60 s after the
 * last one) and `max`, its highest seq. A command sent again after its reply was lost (a
 * reconnect resends what had no answer) finds its seq there and gets the same position back.
 * A seq at or below `max` that is no longer there was applied long ago: {-1, ''}. Nothing is
 * appended twice.
 */
export const HISTORY_APPEND = new LuaScript(`${NOW}${TRIM_AGE}${META}
local maxAge = tonumber(ARGV[3])
local wseq = tonumber(ARGV[5])
local seen = redis.call('HGET', KEYS[3], ARGV[5])
if seen then
  local sep = string.find(seen, ':', 1, true)
  return {tonumber(string.sub(seen, 1, sep - 1)), string.sub(seen, sep + 1)}
end
if wseq <= tonumber(redis.call('HGET', KEYS[3], 'max') or '0') then return {-1, ''} end
local epoch = meta(KEYS[1], KEYS[2], ARGV[4], maxAge)
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[3], ARGV[5], seq .. ':' .. epoch, 'max', wseq)
if redis.call('HLEN', KEYS[3]) > 129 then
  local fields = redis.call('HKEYS', KEYS[3])
  local nums = {}
  for _, f in ipairs(fields) do if f ~= 'max' then nums[#nums + 1] = tonumber(f) end end
  table.sort(nums)
  for i = 1, #nums - 64 do redis.call('HDEL', KEYS[3], tostring(nums[i])) end
end
redis.call('PEXPIRE', KEYS[3], 60000)
redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[2], seq .. '-0', 't', now, 'd', ARGV[1])
trimAge(KEYS[1], maxAge, now)
if maxAge > 0 then
  redis.call('PEXPIRE', KEYS[1], maxAge)
  redis.call('PEXPIRE', KEYS[2], maxAge)
end
return {seq, epoch}`);

/**
 * KEYS: stream, meta. ARGV: after, limit, maxAgeMs, newEpoch.
 * Returns {epoch, seq, firstOffset or -1, entries}; entries as XRANGE returns them.
 */
export const HISTORY_READ = new LuaScript(`${NOW}${TRIM_AGE}${META}
local maxAge = tonumber(ARGV[3])
local epoch = meta(KEYS[1], KEYS[2], ARGV[4], maxAge)
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq'))
trimAge(KEYS[1], maxAge, now)
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local first = -1
if #head > 0 then
  first = tonumber(string.sub(head[1][1], 1, string.find(head[1][1], '-', 1, true) - 1))
end
local entries = {}
if ARGV[2] ~= '0' then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {epoch, seq, first, entries}`);
