/**
 * The Redis side of the limiter: one Lua script decides a batch of decisions atomically, each of
 * them all-or-nothing over its limits, with the server's clock. It mirrors src/limiter/decideAll.ts
 * and src/limiter/algorithms/*.ts operation for operation (same formulas, same order, same
 * EPSILON), and the property tests in test/stores/ hold both to the same decisions.
 *
 * KEYS: every check's key, decision after decision.
 * ARGV: now ("" = the server's TIME), the number of decisions, then per decision its number of
 *       checks followed by 7 fields per check: algorithm, limit, window ms, parameter (gcra burst,
 *       token-bucket capacity, fixed-window 1 when clock-aligned), cost, shadow (1/0), lease.
 * Reply: now, then per check 5 strings: allowed (1/0), remaining, resetAt, retryAfterMs ("" when
 *        admitted), reason ("" or "cost").
 * Numbers travel as %.17g strings: a Lua number returned as a reply would be truncated to an
 * integer, and a shorter format would round a fractional GCRA time differently from JavaScript.
 *
 * State per key: gcra "tat"; token-bucket "tokens at"; sliding-window-counter "start previous
 * current"; fixed-window "start count"; sliding-window-log a list of unit times, oldest first;
 * concurrency a sorted set of "units|lease" scored by expiry.
 */
import { createHash } from "node:crypto";

export const ALGORITHM_CODES = {
  "gcra": "g",
  "token-bucket": "t",
  "sliding-window-log": "l",
  "sliding-window-counter": "c",
  "fixed-window": "f",
  "concurrency": "x",
} as const;

export const FIELDS_PER_CHECK = 7;
export const REPLY_FIELDS_PER_CHECK = 5;

export const DECIDE_SCRIPT = String.raw`
local EPSILON = 1e-9
local TIME_TOLERANCE = 1e-3
local function fmt(x) return string.format("%.17g", x) end
local function floor(x) return math.floor(x) end
local function max(a, b) if a > b then return a end return b end
local function min(a, b) if a < b then return a end return b end
local function words(s)
  local out = {}
  for w in string.gmatch(s, "%S+") do out[#out + 1] = tonumber(w) end
  return out
end

local now
if ARGV[1] ~= "" then
  now = tonumber(ARGV[1])
else
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
end

-- Each algorithm: read(key) -> state; decide(state, p, cost) -> decision, next state, expiresAt;
-- write(key, next, expiresAt, p, cost). A decision is {allowed, remaining, resetAt, retry, reason}.

local function exceeds(p, remaining, resetAt)
  return { false, remaining, resetAt, p.window, "cost" }
end

local algorithms = {}

algorithms.g = {
  read = function(key) local v = redis.call("GET", key); if v then return tonumber(v) end return nil end,
  decide = function(tat, p, cost)
    local interval = p.window / p.limit
    local burst = p.param > 0 and p.param or p.limit
    local capacity = burst * interval
    local base = now
    if tat ~= nil and not (tat < now) then base = tat end
    local function left(backlog) return max(0, floor((capacity - backlog + TIME_TOLERANCE) / interval)) end
    if cost > burst then return exceeds(p, left(base - now), base), base, base end
    local nextTat = base + cost * interval
    local allowAt = nextTat - capacity
    if allowAt <= now + TIME_TOLERANCE then return { true, left(nextTat - now), nextTat }, nextTat, nextTat end
    return { false, left(base - now), base, allowAt - now }, base, base
  end,
  write = function(key, tat) return { "SET", key, fmt(tat) } end,
}

algorithms.t = {
  read = function(key) local v = redis.call("GET", key); if v then return words(v) end return nil end,
  decide = function(s, p, cost)
    local msPerToken = p.window / p.limit
    local capacity = p.param
    local tokens = capacity
    if s ~= nil then tokens = min(capacity, s[1] + max(0, now - s[2]) / msPerToken) end
    local function fullAt(l) return now + (capacity - l) * msPerToken end
    local function whole(t) return floor(t + EPSILON) end
    if cost > capacity then return exceeds(p, whole(tokens), fullAt(tokens)), { tokens, now }, fullAt(tokens) end
    if tokens + EPSILON >= cost then
      local l = max(0, tokens - cost)
      return { true, whole(l), fullAt(l) }, { l, now }, fullAt(l)
    end
    return { false, whole(tokens), fullAt(tokens), (cost - tokens) * msPerToken }, { tokens, now }, fullAt(tokens)
  end,
  write = function(key, s) return { "SET", key, fmt(s[1]) .. " " .. fmt(s[2]) } end,
}

algorithms.c = {
  read = function(key) local v = redis.call("GET", key); if v then return words(v) end return nil end,
  decide = function(s, p, cost)
    local limit, window = p.limit, p.window
    local start = now - (now % window)
    local previous, current = 0, 0
    if s ~= nil and s[1] == start then previous, current = s[2], s[3]
    elseif s ~= nil and s[1] == start - window then previous = s[3] end
    local elapsed = now - start
    local estimate = (previous * (window - elapsed)) / window + current
    local function resetAt(counted) if counted > 0 then return start + 2 * window end return start + window end
    local function left(used) return max(0, floor(limit - used + EPSILON)) end
    if cost > limit then return exceeds(p, left(estimate), resetAt(current)), { start, previous, current }, resetAt(current) end
    if estimate + cost <= limit + EPSILON then
      local nxt = current + cost
      return { true, left(estimate + cost), resetAt(nxt) }, { start, previous, nxt }, resetAt(nxt)
    end
    local wait
    local room = limit - current - cost
    if room >= 0 then wait = math.ceil(window - (room * window) / previous)
    else wait = window + max(0, math.ceil(window - ((limit - cost) * window) / current)) end
    return { false, left(estimate), resetAt(current), wait - elapsed }, { start, previous, current }, resetAt(current)
  end,
  write = function(key, s) return { "SET", key, fmt(s[1]) .. " " .. fmt(s[2]) .. " " .. fmt(s[3]) } end,
}

algorithms.f = {
  read = function(key) local v = redis.call("GET", key); if v then return words(v) end return nil end,
  decide = function(s, p, cost)
    local limit, window = p.limit, p.window
    local start, count
    if s ~= nil and now < s[1] + window and now >= s[1] then start, count = s[1], s[2]
    else
      start, count = now, 0
      if p.param == 1 then start = now - (now % window) end
    end
    local resetAt = start + window
    if cost > limit then return exceeds(p, max(0, limit - count), resetAt), { start, count }, resetAt end
    if count + cost <= limit then return { true, limit - count - cost, resetAt }, { start, count + cost }, resetAt end
    return { false, max(0, limit - count), resetAt, resetAt - now }, { start, count }, resetAt
  end,
  write = function(key, s) return { "SET", key, fmt(s[1]) .. " " .. fmt(s[2]) } end,
}

algorithms.l = {
  read = function(key) return redis.call("LRANGE", key, 0, -1) end,
  decide = function(log, p, cost)
    local limit, window = p.limit, p.window
    local first = 1
    while first <= #log and tonumber(log[first]) + window <= now do first = first + 1 end
    local used = #log - first + 1
    local resetAt = now
    if used > 0 then resetAt = tonumber(log[#log]) + window end
    local state = { expired = first - 1 }
    if cost > limit then return exceeds(p, max(0, limit - used), resetAt), state, resetAt end
    if used + cost <= limit then
      local nextResetAt = resetAt
      if cost > 0 then nextResetAt = now + window end
      return { true, limit - used - cost, nextResetAt }, state, nextResetAt
    end
    local mustExpire = tonumber(log[first + used + cost - limit - 1])
    return { false, max(0, limit - used), resetAt, mustExpire + window - now }, state, resetAt
  end,
  write = function(key, state, expiresAt, p, cost)
    if state.expired > 0 then redis.call("LTRIM", key, state.expired, -1) end
    local cmd = { "RPUSH", key }
    for _ = 1, cost do cmd[#cmd + 1] = fmt(now) end
    return cmd
  end,
}

algorithms.x = {
  read = function(key) return redis.call("ZRANGEBYSCORE", key, "(" .. fmt(now), "+inf", "WITHSCORES") end,
  decide = function(leases, p, cost)
    local used, last = 0, now
    for i = 1, #leases, 2 do
      used = used + tonumber(string.match(leases[i], "^(%d+)|"))
      last = max(last, tonumber(leases[i + 1]))
    end
    if cost > p.limit then return exceeds(p, max(0, p.limit - used), last), nil, last end
    if used + cost <= p.limit then
      local expiresAt = last
      if cost > 0 then expiresAt = now + p.window end
      return { true, p.limit - used - cost, expiresAt }, nil, expiresAt
    end
    return { false, max(0, p.limit - used), last, 1000 }, nil, last
  end,
  write = function(key, _, expiresAt, p, cost)
    redis.call("ZREMRANGEBYSCORE", key, "-inf", fmt(now))
    return { "ZADD", key, fmt(now + p.window), cost .. "|" .. p.lease }
  end,
}

local reply = { fmt(now) }
local argi, keyi = 3, 1
for _ = 1, tonumber(ARGV[2]) do
  local n = tonumber(ARGV[argi]); argi = argi + 1
  local checks, allowed = {}, true
  for i = 1, n do
    local p = {
      key = KEYS[keyi], alg = algorithms[ARGV[argi]], limit = tonumber(ARGV[argi + 1]), window = tonumber(ARGV[argi + 2]),
      param = tonumber(ARGV[argi + 3]), cost = tonumber(ARGV[argi + 4]), shadow = ARGV[argi + 5] == "1", lease = ARGV[argi + 6],
    }
    keyi, argi = keyi + 1, argi + 7
    p.state = p.alg.read(p.key)
    p.decision, p.next, p.expiresAt = p.alg.decide(p.state, p, p.cost)
    if not p.decision[1] and not p.shadow then allowed = false end
    checks[i] = p
  end
  for i = 1, n do
    local p = checks[i]
    local d = p.decision
    if allowed then
      if d[1] and p.cost > 0 then
        local cmd = p.alg.write(p.key, p.next, p.expiresAt, p, p.cost)
        if cmd then redis.call(unpack(cmd)) end
        redis.call("PEXPIRE", p.key, math.ceil(max(p.expiresAt - now, 1)))
      end
    elseif d[1] then
      d = p.alg.decide(p.state, p, 0)
    end
    reply[#reply + 1] = d[1] and "1" or "0"
    reply[#reply + 1] = fmt(d[2])
    reply[#reply + 1] = fmt(d[3])
    reply[#reply + 1] = d[4] and fmt(d[4]) or ""
    reply[#reply + 1] = d[5] or ""
  end
end
return reply
`;

/** The SHA1 by which Redis knows DECIDE_SCRIPT once it has run it: what EVALSHA names. */
export const DECIDE_SCRIPT_SHA = createHash("sha1").update(DECIDE_SCRIPT).digest("hex");
