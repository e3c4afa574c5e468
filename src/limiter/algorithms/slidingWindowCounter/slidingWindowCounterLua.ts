/**
 * The sliding window counter in the Redis store's scripts (the names a fragment sees:
 * ../registration.ts), mirroring ./slidingWindowCounter.ts.
 *
 * State: a string, "start previous current". No parameter.
 * decide: x = start's text, y = previous's text, z = the new current count.
 * Expiry: two windows from the last write (a count still weighs on the next window).
 * Refund: cost off the window that counted it, current or previous.
 */
import type { SlidingWindowCounterPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";

export const slidingWindowCounterLua: AlgorithmLua<SlidingWindowCounterPolicy> = {
  parameterOf: () => 0,

  decide: String.raw`local state = redis.call("GET", key)
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
return false, left, resetAt, wait - elapsed, nil`,

  prepare: String.raw`ttl[p] = fmt(2 * w)`,

  store: () => String.raw`redis.call("SET", key, x .. " " .. y .. " " .. fmt(z), "PX", ttl[p])`,

  refund: () => String.raw`local state = redis.call("GET", key)
if state then
  local start, previous, current = string.match(state, "^(%S+) (%S+) (%S+)$")
  start, previous, current = tonumber(start), tonumber(previous), tonumber(current)
  local counted = at - (at % window)
  if counted == start then current = current > cost and current - cost or 0
  elseif counted == start - window then previous = previous > cost and previous - cost or 0 end
  put(key, fmt(start) .. " " .. fmt(previous) .. " " .. fmt(current))
end`,
};
