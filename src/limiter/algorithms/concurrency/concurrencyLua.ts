/**
 * Concurrency in the Redis store's scripts (the names a fragment sees: ../registration.ts),
 * mirroring ./concurrency.ts.
 *
 * State: a sorted set of "units|lease", each scored by its expiry. No parameter.
 * decide: nothing for store (the lease is the check's own).
 * Expiry: a window from the last write; `shared[p]` is when a lease taken now expires.
 * Refund: the lease, released.
 */
import type { ConcurrencyPolicy } from "../../policy.js";
import type { AlgorithmLua } from "../registration.js";
import { CONCURRENCY_RETRY_MS } from "./concurrency.js";

export const concurrencyLua: AlgorithmLua<ConcurrencyPolicy> = {
  parameterOf: () => 0,

  decide: String.raw`local leases = redis.call("ZRANGEBYSCORE", key, "(" .. nowText, "+inf", "WITHSCORES")
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
return false, left, last, ${CONCURRENCY_RETRY_MS}, nil`,

  prepare: String.raw`shared[p] = fmt(now + w)`,

  store: ({ lease }) => String.raw`redis.call("ZREMRANGEBYSCORE", key, "-inf", nowText)
redis.call("ZADD", key, shared[p], costText .. "|" .. ${lease})
redis.call("PEXPIRE", key, ttl[p])`,

  refund: ({ lease }) => String.raw`redis.call("ZREM", key, cost .. "|" .. ${lease})`,
};
