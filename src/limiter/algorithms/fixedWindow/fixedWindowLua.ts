/**
 * The fixed window in the Redis store's scripts (the names a fragment sees: ../registration.ts),
 * mirroring ./fixedWindow.ts.
 *
 * State: a string, "start count". Parameter: 1 when windows are clock-aligned, else 0.
 * decide: x = start, y = the new count, z = start's text when the window goes on (nil when it
 * begins with this decision).
 * Expiry: the end of the window, given when it begins: a window that goes on keeps its expiry
 * (SET … KEEPTTL, Redis 6 or later).
 * Refund: cost off the count, if the window that counted it is still the current one.
 */
import type { FixedWindowPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";

export const fixedWindowLua: AlgorithmLua<FixedWindowPolicy> = {
  parameterOf: (policy) => (policy.align === "clock" ? 1 : 0),

  decide: String.raw`local state = redis.call("GET", key)
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
return false, 0 > left and 0 or left, resetAt, resetAt - now, nil`,

  store: () => String.raw`if z then redis.call("SET", key, z .. " " .. fmt(y), "KEEPTTL")
else redis.call("SET", key, (x == now and nowText or fmt(x)) .. " " .. fmt(y), "PX", ttl[p]) end`,

  refund: () => String.raw`local state = redis.call("GET", key)
if state then
  local start, count = string.match(state, "^(%S+) (%S+)$")
  start, count = tonumber(start), tonumber(count)
  if at >= start and at < start + window then put(key, fmt(start) .. " " .. fmt(count > cost and count - cost or 0)) end
end`,
};
