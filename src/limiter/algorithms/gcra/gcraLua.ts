/**
 * GCRA in the Redis store's scripts (the names a fragment sees: ../registration.ts), mirroring
 * ./gcra.ts.
 *
 * State: a string, the TAT. Parameter: the burst, 0 when it is the limit.
 * decide: x = the new TAT.
 * Expiry: the time the bucket takes to be whole again from empty, burst × window / limit.
 * Refund: cost × interval off the TAT, less the time gone by since the decision; the key goes
 * when nothing is left.
 */
import type { GcraPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";
import { TIME_TOLERANCE_MS } from "./gcra.js";

export const gcraLua: AlgorithmLua<GcraPolicy> = {
  parameterOf: (policy) => policy.burst ?? 0,

  decide: String.raw`local TIME_TOLERANCE = ${TIME_TOLERANCE_MS}
local tat = redis.call("GET", key)
if tat then tat = tonumber(tat) end
local interval = window / limit
local burst = param > 0 and param or limit
local capacity = burst * interval
local base = now
if tat and not (tat < now) then base = tat end
local left = math.min(burst, math.floor((capacity - (base - now) + TIME_TOLERANCE) / interval))
left = 0 > left and 0 or left
if cost > burst then return false, left, base, window, "cost" end
local nextTat = base + cost * interval
local allowAt = nextTat - capacity
if allowAt <= now + TIME_TOLERANCE then
  left = math.min(burst - cost, math.floor((capacity - (nextTat - now) + TIME_TOLERANCE) / interval))
  return true, 0 > left and 0 or left, nextTat, nil, nil, nextTat
end
return false, left, base, allowAt - now, nil`,

  prepare: String.raw`ttl[p] = fmt(math.ceil((q > 0 and q or l) * w / l))`,

  store: () => String.raw`redis.call("SET", key, fmt(x), "PX", ttl[p])`,

  refund: () => String.raw`local state = redis.call("GET", key)
if state then
  -- A decision since may have found the bucket full (the TAT behind its time) and absorbed
  -- part of the charge; that part is at most the time gone by since the charge.
  local back = cost * window / limit - (now - at)
  if back > 0 then
    local tat = tonumber(state) - back
    if tat > now then put(key, fmt(tat)) else redis.call("DEL", key) end
  end
end`,
};
