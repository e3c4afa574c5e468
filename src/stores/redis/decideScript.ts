/**
 * The Redis side of the limiter: one Lua script decides a batch of decisions atomically, each of
 * them all-or-nothing over its limits, with the server's clock. It mirrors src/limiter/decideAll.ts
 * and src/limiter/algorithms/*.ts operation for operation (same formulas, same order, same
 * EPSILON), and the property tests in test/stores/ hold both to the same decisions.
 *
 * KEYS: every check's key, decision after decision.
 * ARGV: now ("" = the server's TIME); the number of policies, then POLICY_FIELDS per policy:
 *       algorithm code, limit, window ms, parameter (gcra burst, token-bucket capacity,
 *       fixed-window 1 when clock-aligned), shadow (1/0); the number of decisions, then per
 *       decision its number of checks followed by CHECK_FIELDS per check: the policy's place
 *       among the policies (from 1), cost, lease. A policy that many checks share (the usual
 *       case: one limit, many callers) is sent once per call, not once per check.
 * Reply: one string of space-separated fields: now, then per check REPLY_FIELDS: allowed (1/0),
 *        remaining, resetAt, retryAfterMs ("" when admitted), reason ("" or "cost"). One bulk
 *        string costs Redis and the client less than five per check.
 * Numbers travel as strings printed like string.format("%.17g"): a Lua number returned as a reply
 * would be truncated to an integer, and a shorter format would round a fractional GCRA time
 * differently from JavaScript.
 *
 * State per key: gcra "tat"; token-bucket "tokens at"; sliding-window-counter "start previous
 * current"; fixed-window "start count"; sliding-window-log a list of unit times, oldest first;
 * concurrency a sorted set of "units|lease" scored by expiry.
 *
 * Cost. Redis keeps no Lua state between calls: the whole body runs on every call, so whatever it
 * builds, it builds per call. Measured on Redis 7.0 (bench/README.md, "the limiter engine"):
 * - Four functions, capturing no local of the body but fmt (a closure over n locals allocates n
 *   upvalues, about 50 ns each per call): they take now as a parameter and name string.format,
 *   redis.call and math.floor as globals. The six algorithms are branches of one function, not a
 *   table of closures, and max(0, x) is written "0 > x and 0 or x" for the same reason.
 * - Integers are printed with "%d": half the price of "%.17g", the same bytes (see fmt). Numbers
 *   handed to redis.call are strings already, since Redis would print a Lua number with "%.17g".
 * - A string state is written with one SET … PX, not SET then PEXPIRE; lists and sorted sets
 *   keep their PEXPIRE. A state string is cut with one string.match: no iterator, no table.
 * - Each check's reply fields are written as it is decided. When another limit refuses the
 *   decision, a check that admitted is decided again at cost 0 (decideAll's rule) and its fields
 *   overwritten; that second look reads its key again, the rare path paying so that the common
 *   one keeps no state it read.
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

/** The argument and reply layout: the script below is written with these numbers. */
export const POLICY_FIELDS = 5;
export const CHECK_FIELDS = 3;
export const REPLY_FIELDS = 5;

export const DECIDE_SCRIPT = String.raw`
-- Exactly string.format("%.17g", x), but an integer takes the integer conversion: "%d" prints the
-- same digits for every integer a double holds exactly (|x| < 2^53) except -0, which "%.17g"
-- prints as "-0" (and JavaScript parses back to -0, not 0).
local function fmt(x)
  if x < 9007199254740992 and x > -9007199254740992 and x % 1 == 0 and (x ~= 0 or 1 / x > 0) then return string.format("%d", x) end
  return string.format("%.17g", x)
end

-- One check, decided and not yet stored: returns allowed, remaining, resetAt, retryAfterMs (nil
-- when admitted), reason (nil or "cost"), then when the state expires and the state to store
-- (a, b, c), which the caller stores only if the whole decision admits.
-- "0 > x and 0 or x" is max(0, x) and "x < y and x or y" is min(x, y): Lua has no ternary, and a
-- helper function would be one more closure (with upvalues) to build on every call.
local function decide(now, nowText, code, key, limit, window, param, cost)
  local EPSILON, TIME_TOLERANCE = 1e-9, 1e-3
  if code == "f" then -- fixed window, param 1 = clock-aligned; state "start count"
    local state = redis.call("GET", key)
    local start, count
    if state then
      start, count = string.match(state, "^(%S+) (%S+)$")
      start, count = tonumber(start), tonumber(count)
    end
    if not (start and now < start + window and now >= start) then
      start, count = now, 0
      if param == 1 then start = now - (now % window) end
    end
    local resetAt = start + window
    local left = limit - count
    if cost > limit then return false, 0 > left and 0 or left, resetAt, window, "cost", resetAt end
    if count + cost <= limit then return true, limit - count - cost, resetAt, nil, nil, resetAt, start, count + cost end
    return false, 0 > left and 0 or left, resetAt, resetAt - now, nil, resetAt

  elseif code == "g" then -- GCRA, param = burst (0: the limit); state "tat"
    local tat = redis.call("GET", key)
    if tat then tat = tonumber(tat) end
    local interval = window / limit
    local burst = param > 0 and param or limit
    local capacity = burst * interval
    local base = now
    if tat and not (tat < now) then base = tat end
    local left = math.floor((capacity - (base - now) + TIME_TOLERANCE) / interval)
    left = 0 > left and 0 or left
    if cost > burst then return false, left, base, window, "cost", base end
    local nextTat = base + cost * interval
    local allowAt = nextTat - capacity
    if allowAt <= now + TIME_TOLERANCE then
      left = math.floor((capacity - (nextTat - now) + TIME_TOLERANCE) / interval)
      return true, 0 > left and 0 or left, nextTat, nil, nil, nextTat, nextTat
    end
    return false, left, base, allowAt - now, nil, base

  elseif code == "t" then -- token bucket, param = capacity; state "tokens at"
    local state = redis.call("GET", key)
    local msPerToken = window / limit
    local tokens = param
    if state then
      local held, since = string.match(state, "^(%S+) (%S+)$")
      local elapsed = now - tonumber(since)
      local refilled = tonumber(held) + (0 > elapsed and 0 or elapsed) / msPerToken
      tokens = param < refilled and param or refilled
    end
    if cost > param then
      local fullAt = now + (param - tokens) * msPerToken
      return false, math.floor(tokens + EPSILON), fullAt, window, "cost", fullAt
    end
    if tokens + EPSILON >= cost then
      local left = tokens - cost
      left = 0 > left and 0 or left
      local fullAt = now + (param - left) * msPerToken
      return true, math.floor(left + EPSILON), fullAt, nil, nil, fullAt, left, now
    end
    local fullAt = now + (param - tokens) * msPerToken
    return false, math.floor(tokens + EPSILON), fullAt, (cost - tokens) * msPerToken, nil, fullAt

  elseif code == "c" then -- sliding window counter; state "start previous current"
    local state = redis.call("GET", key)
    local start = now - (now % window)
    local previous, current = 0, 0
    if state then
      local s, p, c = string.match(state, "^(%S+) (%S+) (%S+)$")
      s = tonumber(s)
      if s == start then previous, current = tonumber(p), tonumber(c)
      elseif s == start - window then previous = tonumber(c) end
    end
    local elapsed = now - start
    local estimate = (previous * (window - elapsed)) / window + current
    local resetAt = start + window
    if current > 0 then resetAt = start + 2 * window end
    local left = math.floor(limit - estimate + EPSILON)
    left = 0 > left and 0 or left
    if cost > limit then return false, left, resetAt, window, "cost", resetAt end
    if estimate + cost <= limit + EPSILON then
      local nxt = current + cost
      if nxt > 0 then resetAt = start + 2 * window end
      left = math.floor(limit - (estimate + cost) + EPSILON)
      return true, 0 > left and 0 or left, resetAt, nil, nil, resetAt, start, previous, nxt
    end
    local wait
    local room = limit - current - cost
    if room >= 0 then wait = math.ceil(window - (room * window) / previous)
    else
      wait = math.ceil(window - ((limit - cost) * window) / current)
      wait = window + (0 > wait and 0 or wait)
    end
    return false, left, resetAt, wait - elapsed, nil, resetAt

  elseif code == "l" then -- sliding window log: a list of unit times; state to store: how many expired to trim
    local log = redis.call("LRANGE", key, 0, -1)
    local first = 1
    while first <= #log and tonumber(log[first]) + window <= now do first = first + 1 end
    local used = #log - first + 1
    local resetAt = now
    if used > 0 then resetAt = tonumber(log[#log]) + window end
    local left = limit - used
    left = 0 > left and 0 or left
    if cost > limit then return false, left, resetAt, window, "cost", resetAt end
    if used + cost <= limit then
      local nextResetAt = resetAt
      if cost > 0 then nextResetAt = now + window end
      return true, limit - used - cost, nextResetAt, nil, nil, nextResetAt, first - 1
    end
    local mustExpire = tonumber(log[first + used + cost - limit - 1])
    return false, left, resetAt, mustExpire + window - now, nil, resetAt
  end

  -- concurrency: a sorted set of "units|lease" scored by expiry
  local leases = redis.call("ZRANGEBYSCORE", key, "(" .. nowText, "+inf", "WITHSCORES")
  local used, last = 0, now
  for i = 1, #leases, 2 do
    used = used + tonumber(string.match(leases[i], "^(%d+)|"))
    local expiry = tonumber(leases[i + 1])
    last = last > expiry and last or expiry
  end
  local left = limit - used
  left = 0 > left and 0 or left
  if cost > limit then return false, left, last, window, "cost", last end
  if used + cost <= limit then
    local expiresAt = last
    if cost > 0 then expiresAt = now + window end
    return true, limit - used - cost, expiresAt, nil, nil, expiresAt
  end
  return false, left, last, 1000, nil, last
end

-- Stores an admitted check's state: a string state and its expiry in one SET … PX.
local function write(now, nowText, code, key, expiresAt, window, cost, lease, a, b, c)
  local ttl = expiresAt - now
  ttl = fmt(math.ceil(ttl > 1 and ttl or 1))
  if code == "f" or code == "t" then redis.call("SET", key, fmt(a) .. " " .. fmt(b), "PX", ttl)
  elseif code == "g" then redis.call("SET", key, fmt(a), "PX", ttl)
  elseif code == "c" then redis.call("SET", key, fmt(a) .. " " .. fmt(b) .. " " .. fmt(c), "PX", ttl)
  elseif code == "l" then
    if a > 0 then redis.call("LTRIM", key, fmt(a), "-1") end
    local push = { "RPUSH", key }
    for i = 1, cost do push[i + 2] = nowText end
    redis.call(unpack(push))
    redis.call("PEXPIRE", key, ttl)
  else
    redis.call("ZREMRANGEBYSCORE", key, "-inf", nowText)
    redis.call("ZADD", key, fmt(now + window), cost .. "|" .. lease)
    redis.call("PEXPIRE", key, ttl)
  end
end

-- Sets the 5 reply fields of the check whose first field is reply[at].
local function answer(reply, at, allowed, remaining, resetAt, retry, reason)
  reply[at] = allowed and "1" or "0"
  reply[at + 1] = fmt(remaining)
  reply[at + 2] = fmt(resetAt)
  reply[at + 3] = retry and fmt(retry) or ""
  reply[at + 4] = reason or ""
end

local now
if ARGV[1] ~= "" then
  now = tonumber(ARGV[1])
else
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local nowText = fmt(now)

-- The call's policies, each sent once however many checks use it.
local code, limit, window, param, shadow = {}, {}, {}, {}, {}
local a = 3
for p = 1, tonumber(ARGV[2]) do
  code[p], limit[p], window[p], param[p], shadow[p] = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 4] == "1"
  a = a + ${POLICY_FIELDS}
end

local reply = { nowText }
-- Per check of the decision at hand, 5 slots: allowed, expiresAt, x, y, z.
local held = {}
local keyi, at = 1, 2
local decisions = tonumber(ARGV[a])
a = a + 1
for _ = 1, decisions do
  local n = tonumber(ARGV[a])
  local first = a + 1
  local allowed = true
  for i = 0, n - 1 do
    local j, h = first + ${CHECK_FIELDS} * i, 5 * i
    local p = tonumber(ARGV[j])
    local ok, remaining, resetAt, retry, reason, expiresAt, x, y, z =
      decide(now, nowText, code[p], KEYS[keyi + i], limit[p], window[p], param[p], tonumber(ARGV[j + 1]))
    answer(reply, at + ${REPLY_FIELDS} * i, ok, remaining, resetAt, retry, reason)
    if not ok and not shadow[p] then allowed = false end
    held[h + 1], held[h + 2], held[h + 3], held[h + 4], held[h + 5] = ok, expiresAt, x, y, z
  end
  for i = 0, n - 1 do
    local j, h = first + ${CHECK_FIELDS} * i, 5 * i
    if held[h + 1] then
      local p, cost = tonumber(ARGV[j]), tonumber(ARGV[j + 1])
      if not allowed then
        -- decideAll's rule: a limit that would have admitted reports its untouched state.
        answer(reply, at + ${REPLY_FIELDS} * i, decide(now, nowText, code[p], KEYS[keyi + i], limit[p], window[p], param[p], 0))
      elseif cost > 0 then
        write(now, nowText, code[p], KEYS[keyi + i], held[h + 2], window[p], cost, ARGV[j + 2], held[h + 3], held[h + 4], held[h + 5])
      end
    end
  end
  a, keyi, at = first + ${CHECK_FIELDS} * n, keyi + n, at + ${REPLY_FIELDS} * n
end
-- One bulk string rather than 5 per check: Redis and the client each handle one reply element.
return table.concat(reply, " ")
`;

/** The SHA1 by which Redis knows DECIDE_SCRIPT once it has run it: what EVALSHA names. */
export const DECIDE_SCRIPT_SHA = createHash("sha1").update(DECIDE_SCRIPT).digest("hex");
