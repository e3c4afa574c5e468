/**
 * Gives back what an admitted decision charged, for a caller that was never told "admitted": the
 * decision's reply came after its deadline, and the caller had already been answered by a failure
 * mode that refused it (docs/redis.md, "No charge without an answer"). One atomic script per call.
 *
 * KEYS: the charged checks' keys.
 * ARGV: now ("" = the server's TIME); at, the decision's time (its reply's first field); then
 *       REFUND_FIELDS per check: algorithm code, limit, window ms, parameter, cost, lease.
 *
 * What each algorithm gives back, read against the state as it is now (other decisions may have
 * come since; a refund never takes a counter below zero or a bucket above its capacity, and never
 * gives back what time may already have given back):
 * - fixed window: cost off the count, if the window that counted it is still the current one;
 * - sliding window counter: cost off the window that counted it, current or previous;
 * - sliding window log: cost entries stamped `at`, removed from the log;
 * - GCRA: cost × interval off the theoretical arrival time, less the time gone by since the
 *   decision (a decision meanwhile may have found the bucket full, which absorbs that much of
 *   the charge at most); the key goes when nothing is left;
 * - token bucket: cost tokens back into the bucket, less what refilled between the decision and
 *   the state's last write (for the same reason), never above its capacity;
 * - concurrency: the lease, released.
 * A refund comes after the fact: a decision refused meanwhile because of the charge stays refused.
 * String states keep their expiry (PTTL), which the refund never needs to lengthen.
 */
import { createHash } from "node:crypto";
import { LUA_FMT, LUA_NOW } from "./luaPrelude.js";

export const REFUND_FIELDS = 6;

export const REFUND_SCRIPT = String.raw`
-- As the decide script prints numbers, so at reads as the entries a sliding log holds.
${LUA_FMT}
${LUA_NOW}

local at = tonumber(ARGV[2])
local atText = fmt(at)

-- Replaces a string state, keeping its expiry.
local function put(key, value)
  local ttl = redis.call("PTTL", key)
  if ttl > 0 then redis.call("SET", key, value, "PX", ttl) end
end

for i = 1, #KEYS do
  local key, j = KEYS[i], 3 + ${REFUND_FIELDS} * (i - 1)
  local code, limit, window, param, cost = ARGV[j], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), tonumber(ARGV[j + 4])
  if code == "l" then
    redis.call("LREM", key, cost, atText)
  elseif code == "x" then
    redis.call("ZREM", key, cost .. "|" .. ARGV[j + 5])
  else
    local state = redis.call("GET", key)
    if state then
      if code == "f" then
        local start, count = string.match(state, "^(%S+) (%S+)$")
        start, count = tonumber(start), tonumber(count)
        if at >= start and at < start + window then put(key, fmt(start) .. " " .. fmt(count > cost and count - cost or 0)) end
      elseif code == "c" then
        local start, previous, current = string.match(state, "^(%S+) (%S+) (%S+)$")
        start, previous, current = tonumber(start), tonumber(previous), tonumber(current)
        local counted = at - (at % window)
        if counted == start then current = current > cost and current - cost or 0
        elseif counted == start - window then previous = previous > cost and previous - cost or 0 end
        put(key, fmt(start) .. " " .. fmt(previous) .. " " .. fmt(current))
      elseif code == "g" then
        -- A decision since may have found the bucket full (the TAT behind its time) and absorbed
        -- part of the charge; that part is at most the time gone by since the charge.
        local back = cost * window / limit - (now - at)
        if back > 0 then
          local tat = tonumber(state) - back
          if tat > now then put(key, fmt(tat)) else redis.call("DEL", key) end
        end
      elseif code == "t" then
        -- The refill applied since the charge (up to the state's time) may have met the capacity
        -- and absorbed part of it; that part is at most what refilled meanwhile.
        local tokens, since = string.match(state, "^(%S+) (%S+)$")
        local back = cost - (tonumber(since) - at) * limit / window
        if back > 0 then
          tokens = tonumber(tokens) + back
          put(key, fmt(tokens < param and tokens or param) .. " " .. since)
        end
      end
    end
  end
end
return 1
`;

export const REFUND_SCRIPT_SHA = createHash("sha1").update(REFUND_SCRIPT).digest("hex");
