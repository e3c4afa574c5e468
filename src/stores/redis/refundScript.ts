/**
 * Gives back what an admitted decision charged, for a caller that was never told "admitted": the
 * decision's reply came after its deadline, and the caller had already been answered by a failure
 * mode that refused it (docs/redis.md, "No charge without an answer"). One atomic script per call.
 *
 * KEYS: the charged checks' keys.
 * ARGV: now ("" = the server's TIME); at, the decision's time (its reply's first field); then
 *       REFUND_FIELDS per check: algorithm code, limit, window ms, parameter, cost, lease.
 *
 * What each algorithm gives back is its refund fragment (src/limiter/algorithms/<name>/<name>Lua.ts),
 * one branch of an if-chain on the code (luaDispatch.ts), read against the state as it is now:
 * other decisions may have come since, so a refund never takes a counter below zero or a bucket
 * above its capacity, and never gives back what time may already have given back (a decision
 * meanwhile may have found a GCRA or a bucket full, absorbing part of the charge). A refund comes
 * after the fact: a decision refused meanwhile because of the charge stays refused. String states
 * keep their expiry (PTTL), which the refund never needs to lengthen.
 */
import { createHash } from "node:crypto";
import { fragments, luaDispatch } from "./luaDispatch.js";
import { LUA_FMT, LUA_NOW } from "./luaPrelude.js";

export const REFUND_FIELDS = 6;
/** A check's lease (its fields start at ARGV[j]). */
const LEASE = "ARGV[j + 5]";

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
${luaDispatch("code", fragments((lua) => lua.refund({ lease: LEASE })), "  ")}
end
return 1
`;

export const REFUND_SCRIPT_SHA = createHash("sha1").update(REFUND_SCRIPT).digest("hex");
