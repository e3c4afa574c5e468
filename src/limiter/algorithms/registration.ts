/**
 * What an algorithm registers (the registry is ./index.ts): its pure implementation, the
 * one-letter code the Redis store names it by, and its side of the Redis store's two Lua scripts.
 * The store (src/stores/redis/) splices every registered algorithm's fragments into one decide
 * script and one refund script, each an if-chain on the code; so an algorithm is its folder and
 * its entry in the registry.
 *
 * A fragment is Lua text run where the names below are in scope; it mirrors the algorithm's
 * TypeScript operation for operation (same formulas, same order, same EPSILON), and the store
 * tests hold the two to the same decisions. A fragment defines no function and builds no table it
 * can do without: Redis keeps no Lua state between calls, so a closure would be built, and a
 * table allocated, on every call (src/stores/redis/decideScript.ts, "Cost."). It writes no
 * multi-line string, since the store indents it. "0 > x and 0 or x" is max(0, x) and
 * "x < y and x or y" is min(x, y): Lua has no ternary, and a helper would be one more closure.
 */
import type { Algorithm } from "../algorithm.js";
import type { Policy } from "../policy.js";

export interface Registration<P extends Policy = Policy> {
  /**
   * One lower-case letter naming the algorithm in Redis keys and script arguments. Never reuse
   * one: keys outlive a deploy, and a key of another algorithm's shape would be misread.
   */
  readonly code: string;
  readonly algorithm: Algorithm<unknown, P>;
  readonly lua: AlgorithmLua<P>;
}

/** Lua expressions for a check's fields that only some algorithms read, so the others never pay for reading them. */
export interface LuaCheck {
  /** The check's lease, as text ("" when it has none). */
  readonly lease: string;
}

export interface AlgorithmLua<P extends Policy = Policy> {
  /**
   * The one number a policy sends the scripts besides its limit and window, seen as `param`
   * (a GCRA burst, a bucket's capacity, …); 0 when the algorithm has none.
   */
  parameterOf(policy: P): number;
  /**
   * Decides one check and does not store it; ends in `return`. In scope: `now` (ms) and `nowText`
   * (now, printed), `key`, the policy's `limit`, `window` (ms) and `param`, the check's `cost`,
   * `EPSILON` (../algorithm.ts), `fmt(x)` (prints a number as JavaScript reads it back).
   * Returns allowed (true/false), remaining, resetAt, retryAfterMs (nil when admitted), reason
   * (nil, or "cost" for a cost above what the policy ever holds at once), then, when admitted, up
   * to three values x, y, z for `store`. A text read from the state that did not change is handed
   * back as it was read, so it is not printed again.
   */
  readonly decide: string;
  /**
   * Optional: runs once per policy per call, before any decision, for the texts the policy's
   * writes share, so they are printed once per call rather than once per check. In scope: `p`
   * (the policy's place), `l`, `w`, `q` (its limit, window and param), `now`, `nowText`, `fmt`.
   * `ttl[p]`, the key's expiry in ms as text, starts as the window (as sent); set it when the
   * state matters for longer. `shared[p]` is free for one more text.
   */
  readonly prepare?: string;
  /**
   * Writes the state of an admitted check whose cost is above 0 (a peek writes nothing). In
   * scope: `key`, `x`, `y`, `z` from `decide`, `costText` (the cost as sent), `now`, `nowText`,
   * `p`, `ttl[p]`, `shared[p]`, `fmt`. A string state and its expiry are one SET … PX.
   */
  store(check: LuaCheck): string;
  /**
   * Gives back what a decision made at `at` charged to `key`, read against the state as it is
   * now (other decisions may have come since): never below zero, never above the policy's size,
   * never what time may already have given back. In scope: `at` (ms) and `atText` (at, printed as
   * the decide script printed it), `now`, `limit`, `window`, `param`, `cost` (numbers),
   * `put(key, value)` (replaces a string state, keeping its expiry), `fmt`.
   */
  refund(check: LuaCheck): string;
}
