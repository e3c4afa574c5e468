/**
 * The Redis side of the limiter: one Lua script decides a batch of decisions atomically, each of
 * them all-or-nothing over its limits, with the server's clock. It mirrors src/limiter/decideAll.ts
 * and src/limiter/algorithms/ operation for operation (same formulas, same order, same
 * EPSILON), and the property tests in test/stores/ hold both to the same decisions.
 *
 * KEYS: every check's key, decision after decision.
 * ARGV: now ("" = the server's TIME); the number of policies, then POLICY_FIELDS per policy:
 *       algorithm code, limit, window ms, parameter (gcra burst, token-bucket capacity,
 *       fixed-window 1 when clock-aligned), shadow (1/0); the number of decisions, then per
 *       decision its number of checks followed by CHECK_FIELDS per check: the policy's place
 *       among the policies (from 1), cost, lease. A policy that many checks share (the usual
 *       case: one limit, many callers) is sent once per call, not once per check.
 * Reply: now, then per check REPLY_FIELDS: allowed (1/0), remaining, resetAt, retryAfterMs (-1
 *        when admitted), reason (1 for "cost", else 0). An integer is a RESP integer; any other
 *        number travels as text printed like string.format("%.17g") (a Lua number returned as a
 *        reply would be truncated, and a shorter format would round a fractional GCRA time
 *        differently from JavaScript).
 *
 * State per key: gcra "tat"; token-bucket "tokens at"; sliding-window-counter "start previous
 * current"; fixed-window "start count"; sliding-window-log a list of unit times, oldest first;
 * concurrency a sorted set of "units|lease" scored by expiry. Each key expires once its state can
 * no longer matter, measured from its last write: a window (or two, for the counter), or the
 * time a GCRA or a bucket takes to be whole again from empty; a fixed window keeps the expiry it
 * was given when it began (SET … KEEPTTL: Redis 6 or later).
 *
 * Cost. Redis keeps no Lua state between calls: the whole body runs on every call, so whatever it
 * builds, it builds per call. Measured on Redis 7.0 (bench/README.md, "the limiter engine"):
 * - Printing a number is the dearest thing the script does (about 0.45 µs, string.format or
 *   "..": as much as a GET), so it prints as little as it can: replies carry integers as
 *   integers, a state's unchanged parts are written back as the text they were read as, and the
 *   expiry and lease times a policy's checks share are printed once per call, not per check.
 *   Numbers handed to redis.call are texts already, since Redis would print a Lua number itself.
 * - Four functions, capturing no local of the body (a closure over n locals allocates n upvalues,
 *   about 50 ns each per call): they name string.format, redis.call and math.floor as globals.
 *   The six algorithms are branches of one function, not a table of closures, and max(0, x) is
 *   written "0 > x and 0 or x" for the same reason.
 * - A string state is written with one SET … PX, not SET then PEXPIRE; lists and sorted sets
 *   keep their PEXPIRE. A state string is cut with one string.match: no iterator, no table.
 * - Each check's reply fields are written as it is decided. When another limit refuses the
 *   decision, a check that admitted is decided again at cost 0 (decideAll's rule) and its fields
 *   overwritten; that second look reads its key again, the rare path paying so that the common
 *   one keeps no state it read.
 */
import { createHash } from "node:crypto";
import { LUA_FMT, LUA_NOW } from "./luaPrelude.js";

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
${LUA_FMT}

-- One check, decided and not yet stored: returns allowed, remaining, resetAt, retryAfterMs (nil
-- when admitted), reason (nil or "cost"), then the state to store (x, y, z), which the caller
-- stores only if the whole decision admits. Texts read from the state are handed back as they
-- are, so what did not change is not printed again.
-- "0 > x and 0 or x" is max(0, x) and "x < y and x or y" is min(x, y): Lua has no ternary, and a
-- helper function would be one more closure (with upvalues) to build on every call.
local function decide(now, nowText, code, key, limit, window, param, cost)
  local EPSILON, TIME_TOLERANCE = 1e-9, 1e-3
  if code == "f" then -- fixed window, param 1 = clock-aligned; state "start count"; x = start, y = count, z = start's text if the window goes on
    local state = redis.call("GET", key)
    local startText, start, count
    if state then
      startText, count = string.match(state, "^(%S+) (%S+)$")
      start, count = tonumber(startText), tonumber(count)
    end
    if not (start and now < start + window and now >= start) then
      start, count, startText = now, 0, nil
      if param == 1 then start = now - (now % window) end
    end
    local resetAt = start + window
    local left = limit - count
    if cost > limit then return false, 0 > left and 0 or left, resetAt, window, "cost" end
    if count + cost <= limit then return true, limit - count - cost, resetAt, nil, nil, start, count + cost, startText end
    return false, 0 > left and 0 or left, resetAt, resetAt - now, nil

  elseif code == "g" then -- GCRA, param = burst (0: the limit); state "tat"; x = the new tat
    local tat = redis.call("GET", key)
    if tat then tat = tonumber(tat) end
    local interval = window / limit
    local burst = param > 0 and param or limit
    local capacity = burst * interval
    local base = now
    if tat and not (tat < now) then base = tat end
    local left = math.floor((capacity - (base - now) + TIME_TOLERANCE) / interval)
    left = 0 > left and 0 or left
    if cost > burst then return false, left, base, window, "cost" end
    local nextTat = base + cost * interval
    local allowAt = nextTat - capacity
    if allowAt <= now + TIME_TOLERANCE then
      left = math.floor((capacity - (nextTat - now) + TIME_TOLERANCE) / interval)
      return true, 0 > left and 0 or left, nextTat, nil, nil, nextTat
    end
    return false, left, base, allowAt - now, nil

  elseif code == "t" then -- token bucket, param = capacity; state "tokens at"; x = tokens left
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
      return false, math.floor(tokens + EPSILON), now + (param - tokens) * msPerToken, window, "cost"
    end
    if tokens + EPSILON >= cost then
      local left = tokens - cost
      left = 0 > left and 0 or left
      return true, math.floor(left + EPSILON), now + (param - left) * msPerToken, nil, nil, left
    end
    return false, math.floor(tokens + EPSILON), now + (param - tokens) * msPerToken, (cost - tokens) * msPerToken, nil

  elseif code == "c" then -- sliding window counter; state "start previous current"; x = start's text, y = previous's text, z = current
    local state = redis.call("GET", key)
    local start = now - (now % window)
    local startText, previousText = nil, "0"
    local previous, current = 0, 0
    if state then
      local s, p, c = string.match(state, "^(%S+) (%S+) (%S+)$")
      local at = tonumber(s)
      if at == start then startText, previousText, previous, current = s, p, tonumber(p), tonumber(c)
      elseif at == start - window then previousText, previous = c, tonumber(c) end
    end
    local elapsed = now - start
    local estimate = (previous * (window - elapsed)) / window + current
    local resetAt = start + window
    if current > 0 then resetAt = start + 2 * window end
    local left = math.floor(limit - estimate + EPSILON)
    left = 0 > left and 0 or left
    if cost > limit then return false, left, resetAt, window, "cost" end
    if estimate + cost <= limit + EPSILON then
      local nxt = current + cost
      if nxt > 0 then resetAt = start + 2 * window end
      left = math.floor(limit - (estimate + cost) + EPSILON)
      return true, 0 > left and 0 or left, resetAt, nil, nil, startText or fmt(start), previousText, nxt
    end
    local wait
    local room = limit - current - cost
    if room >= 0 then wait = math.ceil(window - (room * window) / previous)
    else
      wait = math.ceil(window - ((limit - cost) * window) / current)
      wait = window + (0 > wait and 0 or wait)
    end
    return false, left, resetAt, wait - elapsed, nil

  elseif code == "l" then -- sliding window log: a list of unit times; x = how many expired to trim
    local log = redis.call("LRANGE", key, 0, -1)
    local first = 1
    while first <= #log and tonumber(log[first]) + window <= now do first = first + 1 end
    local used = #log - first + 1
    local resetAt = now
    if used > 0 then resetAt = tonumber(log[#log]) + window end
    local left = limit - used
    left = 0 > left and 0 or left
    if cost > limit then return false, left, resetAt, window, "cost" end
    if used + cost <= limit then
      local nextResetAt = resetAt
      if cost > 0 then nextResetAt = now + window end
      return true, limit - used - cost, nextResetAt, nil, nil, first - 1
    end
    local mustExpire = tonumber(log[first + used + cost - limit - 1])
    return false, left, resetAt, mustExpire + window - now, nil
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
  if cost > limit then return false, left, last, window, "cost" end
  if used + cost <= limit then
    local expiresAt = last
    if cost > 0 then expiresAt = now + window end
    return true, limit - used - cost, expiresAt, nil, nil
  end
  return false, left, last, 1000, nil
end

-- A reply number: an integer travels as a RESP integer (Redis converts a Lua number by
-- truncation, exact for integers, and far cheaper than printing it), anything else as its text.
local function num(x)
  if x < 9007199254740992 and x > -9007199254740992 and x % 1 == 0 and (x ~= 0 or 1 / x > 0) then return x end
  return fmt(x)
end

-- Sets the REPLY_FIELDS fields of the check whose first field is reply[at].
local function answer(reply, at, allowed, remaining, resetAt, retry, reason)
  reply[at] = allowed and 1 or 0
  reply[at + 1] = num(remaining)
  reply[at + 2] = num(resetAt)
  reply[at + 3] = retry and num(retry) or -1
  reply[at + 4] = reason and 1 or 0
end

${LUA_NOW}
local nowText = fmt(now)

-- The call's policies, each sent once however many checks use it, with the texts their writes
-- share, printed once per call rather than once per check: the longest a state can matter (its
-- key's expiry: a little longer than the memory store keeps it, never shorter) and, for
-- concurrency, when a lease taken now expires.
local code, limit, window, param, shadow, ttl, leaseExpiry = {}, {}, {}, {}, {}, {}, {}
local a = 3
for p = 1, tonumber(ARGV[2]) do
  local c, l, w, q = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  code[p], limit[p], window[p], param[p], shadow[p], ttl[p] = c, l, w, q, ARGV[a + 4] == "1", ARGV[a + 2]
  if c == "g" then ttl[p] = fmt(math.ceil((q > 0 and q or l) * w / l))
  elseif c == "t" then ttl[p] = fmt(math.ceil(q * w / l))
  elseif c == "c" then ttl[p] = fmt(2 * w)
  elseif c == "x" then leaseExpiry[p] = fmt(now + w) end
  a = a + ${POLICY_FIELDS}
end

local reply = { num(now) }
-- Per check of the decision at hand, 4 slots: allowed, then the state x, y, z.
local held = {}
local keyi, at = 1, 2
local decisions = tonumber(ARGV[a])
a = a + 1
for _ = 1, decisions do
  local n = tonumber(ARGV[a])
  local first = a + 1
  local allowed = true
  for i = 0, n - 1 do
    local j, h = first + ${CHECK_FIELDS} * i, 4 * i
    local p = tonumber(ARGV[j])
    local ok, remaining, resetAt, retry, reason, x, y, z = decide(now, nowText, code[p], KEYS[keyi + i], limit[p], window[p], param[p], tonumber(ARGV[j + 1]))
    answer(reply, at + ${REPLY_FIELDS} * i, ok, remaining, resetAt, retry, reason)
    if not ok and not shadow[p] then allowed = false end
    held[h + 1], held[h + 2], held[h + 3], held[h + 4] = ok, x, y, z
  end
  for i = 0, n - 1 do
    local j, h = first + ${CHECK_FIELDS} * i, 4 * i
    if held[h + 1] then
      local p, key, costText = tonumber(ARGV[j]), KEYS[keyi + i], ARGV[j + 1]
      local c, x, y, z = code[p], held[h + 2], held[h + 3], held[h + 4]
      if not allowed then
        -- decideAll's rule: a limit that would have admitted reports its untouched state.
        answer(reply, at + ${REPLY_FIELDS} * i, decide(now, nowText, c, key, limit[p], window[p], param[p], 0))
      elseif tonumber(costText) > 0 then
        -- Stores the admitted state. A string state and its expiry are one SET; a fixed window
        -- that goes on keeps the expiry it was given when it began.
        if c == "f" then
          if z then redis.call("SET", key, z .. " " .. fmt(y), "KEEPTTL")
          else redis.call("SET", key, (x == now and nowText or fmt(x)) .. " " .. fmt(y), "PX", ttl[p]) end
        elseif c == "g" then redis.call("SET", key, fmt(x), "PX", ttl[p])
        elseif c == "t" then redis.call("SET", key, fmt(x) .. " " .. nowText, "PX", ttl[p])
        elseif c == "c" then redis.call("SET", key, x .. " " .. y .. " " .. fmt(z), "PX", ttl[p])
        elseif c == "l" then
          if x > 0 then redis.call("LTRIM", key, fmt(x), "-1") end
          local push = { "RPUSH", key }
          for k = 1, tonumber(costText) do push[k + 2] = nowText end
          redis.call(unpack(push))
          redis.call("PEXPIRE", key, ttl[p])
        else
          redis.call("ZREMRANGEBYSCORE", key, "-inf", nowText)
          redis.call("ZADD", key, leaseExpiry[p], costText .. "|" .. ARGV[j + 2])
          redis.call("PEXPIRE", key, ttl[p])
        end
      end
    end
  end
  a, keyi, at = first + ${CHECK_FIELDS} * n, keyi + n, at + ${REPLY_FIELDS} * n
end
return reply
`;

/** The SHA1 by which Redis knows DECIDE_SCRIPT once it has run it: what EVALSHA names. */
export const DECIDE_SCRIPT_SHA = createHash("sha1").update(DECIDE_SCRIPT).digest("hex");
