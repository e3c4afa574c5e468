/**
 * The sliding window log in the Redis store's scripts (the names a fragment sees:
 * ../registration.ts), mirroring ./slidingWindowLog.ts.
 *
 * State: a list of unit times (each printed as `nowText` was), oldest first. No parameter.
 * decide: x = how many expired times to trim from the head.
 * Expiry: a window from the last write.
 * Refund: cost entries stamped `at`, removed from the log.
 */
import type { SlidingWindowLogPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";

export const slidingWindowLogLua: AlgorithmLua<SlidingWindowLogPolicy> = {
  parameterOf: () => 0,

  decide: String.raw`local log = redis.call("LRANGE", key, 0, -1)
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
return false, left, resetAt, mustExpire + window - now, nil`,

  store: () => String.raw`if x > 0 then redis.call("LTRIM", key, fmt(x), "-1") end
local push = { "RPUSH", key }
for k = 1, tonumber(costText) do push[k + 2] = nowText end
redis.call(unpack(push))
redis.call("PEXPIRE", key, ttl[p])`,

  refund: () => String.raw`redis.call("LREM", key, cost, atText)`,
};
