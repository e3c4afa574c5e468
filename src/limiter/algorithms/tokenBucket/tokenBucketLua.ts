/**
 * The token bucket in the Redis store's scripts (the names a fragment sees: ../registration.ts),
 * mirroring ./tokenBucket.ts.
 *
 * State: a string, "tokens at". Parameter: the capacity.
 * decide: x = the tokens left (`at` is now).
 * Expiry: the time the bucket takes to be full again from empty, capacity × window / limit.
 * Refund: cost tokens back into the bucket, less what refilled between the decision and the
 * state's last write, never above the capacity.
 */
import type { TokenBucketPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";

export const tokenBucketLua: AlgorithmLua<TokenBucketPolicy> = {
  parameterOf: (policy) => policy.capacity,

  decide: String.raw`local state = redis.call("GET", key)
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
return false, math.floor(tokens + EPSILON), now + (param - tokens) * msPerToken, (cost - tokens) * msPerToken, nil`,

  prepare: String.raw`ttl[p] = fmt(math.ceil(q * w / l))`,

  store: () => String.raw`redis.call("SET", key, fmt(x) .. " " .. nowText, "PX", ttl[p])`,

  refund: () => String.raw`local state = redis.call("GET", key)
if state then
  -- The refill applied since the charge (up to the state's time) may have met the capacity
  -- and absorbed part of it; that part is at most what refilled meanwhile.
  local tokens, since = string.match(state, "^(%S+) (%S+)$")
  local back = cost - (tonumber(since) - at) * limit / window
  if back > 0 then
    tokens = tonumber(tokens) + back
    put(key, fmt(tokens < param and tokens or param) .. " " .. since)
  end
end`,
};
