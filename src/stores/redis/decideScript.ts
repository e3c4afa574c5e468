/**
 * The Redis side of the limiter: one Lua script decides a batch of decisions atomically, each of
 * them all-or-nothing over its limits, with the server's clock. It mirrors src/limiter/decideAll.ts
 * operation for operation, and each algorithm's part of it is that algorithm's Lua
 * (src/limiter/algorithms/<name>/<name>Lua.ts), spliced in from the registry: one script per call
 * whatever algorithms its decisions use, since the store sends a turn's decisions together. The
 * store tests in test/stores/ hold it to the memory store's decisions.
 *
 * KEYS: every check's key, decision after decision.
 * ARGV: now ("" = the server's TIME); the number of policies, then POLICY_FIELDS per policy:
 *       algorithm code, limit, window ms, parameter (the algorithm's parameterOf: gcra burst,
 *       token-bucket capacity, …), shadow (1/0); the number of decisions, then per
 *       decision its number of checks followed by CHECK_FIELDS per check: the policy's place
 *       among the policies (from 1), cost, lease. A policy that many checks share (the usual
 *       case: one limit, many callers) is sent once per call, not once per check.
 * Reply: now, then per check REPLY_FIELDS: allowed (1/0), remaining, resetAt, retryAfterMs (-1
 *        when admitted), reason (1 for "cost", else 0). An integer is a RESP integer; any other
 *        number travels as text printed like string.format("%.17g") (a Lua number returned as a
 *        reply would be truncated, and a shorter format would round a fractional GCRA time
 *        differently from JavaScript).
 *
 * State per key: each algorithm's own, documented with its Lua. Each key expires once its state
 * can no longer matter, measured from its last write: a window unless the algorithm's prepare
 * fragment says otherwise (two for the counter, the time a GCRA or a bucket takes to be whole
 * again from empty); a fixed window keeps the expiry it was given when it began.
 *
 * Assembly (luaDispatch.ts): the decide function, the per-policy preparation and the store step
 * each hold an if-chain on the code with one branch per registered algorithm that has that
 * fragment, in registry order. The names each fragment sees are set out in
 * src/limiter/algorithms/registration.ts; a test pins the script's SHA and finds every fragment in it.
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
 *   The algorithms are branches of one function, not a table of closures, and max(0, x) is
 *   written "0 > x and 0 or x" for the same reason; no fragment defines a function.
 * - A string state is written with one SET … PX, not SET then PEXPIRE; lists and sorted sets
 *   keep their PEXPIRE. A state string is cut with one string.match: no iterator, no table.
 * - Each check's reply fields are written as it is decided. When another limit refuses the
 *   decision, a check that admitted is decided again at cost 0 (decideAll's rule) and its fields
 *   overwritten; that second look reads its key again, the rare path paying so that the common
 *   one keeps no state it read.
 */
import { createHash } from "node:crypto";
import { EPSILON } from "../../limiter/algorithm.js";
import { REGISTRATIONS } from "../../limiter/algorithms/index.js";
import type { AlgorithmName } from "../../limiter/policy.js";
import { fragments, luaDispatch } from "./luaDispatch.js";
import { LUA_FMT, LUA_NOW } from "./luaPrelude.js";

/** Each algorithm's code, from the registry: what keys end with and what the script branches on. */
export const ALGORITHM_CODES = Object.fromEntries(REGISTRATIONS.map((r) => [r.name, r.code])) as { readonly [A in AlgorithmName]: string };

/** The argument and reply layout: the script below is written with these numbers. */
export const POLICY_FIELDS = 5;
export const CHECK_FIELDS = 3;
export const REPLY_FIELDS = 5;
/** A check's lease, in the store loop (its fields start at ARGV[j]): read by the algorithms that hold leases only. */
const LEASE = "ARGV[j + 2]";

export const DECIDE_SCRIPT = String.raw`
${LUA_FMT}

-- One check, decided and not yet stored: returns allowed, remaining, resetAt, retryAfterMs (nil
-- when admitted), reason (nil or "cost"), then the state to store (x, y, z), which the caller
-- stores only if the whole decision admits. Texts read from the state are handed back as they
-- are, so what did not change is not printed again. Each algorithm's decide fragment, one branch
-- of the chain on its code.
local function decide(now, nowText, code, key, limit, window, param, cost)
  local EPSILON = ${EPSILON}
${luaDispatch("code", fragments((lua) => lua.decide), "  ")}
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
-- share, printed once per call rather than once per check (each algorithm's prepare fragment):
-- the longest a state can matter (its key's expiry: a little longer than the memory store keeps
-- it, never shorter) and one more if the algorithm needs it (concurrency: when a lease taken now
-- expires).
local code, limit, window, param, shadow, ttl, shared = {}, {}, {}, {}, {}, {}, {}
local a = 3
for p = 1, tonumber(ARGV[2]) do
  local c, l, w, q = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  code[p], limit[p], window[p], param[p], shadow[p], ttl[p] = c, l, w, q, ARGV[a + 4] == "1", ARGV[a + 2]
${luaDispatch("c", fragments((lua) => lua.prepare), "  ")}
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
        -- Stores the admitted state: the algorithm's store fragment.
${luaDispatch("c", fragments((lua) => lua.store({ lease: LEASE })), "        ")}
      end
    end
  end
  a, keyi, at = first + ${CHECK_FIELDS} * n, keyi + n, at + ${REPLY_FIELDS} * n
end
return reply
`;

/** The SHA1 by which Redis knows DECIDE_SCRIPT once it has run it: what EVALSHA names. */
export const DECIDE_SCRIPT_SHA = createHash("sha1").update(DECIDE_SCRIPT).digest("hex");
