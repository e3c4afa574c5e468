/**
 * The shared limiter store: limit state in Redis, so many gateway instances enforce one limit
 * exactly. Each decision, whatever number of limits it checks, is one atomic Lua script with the
 * server's clock (gateway clocks may drift); the script is called by SHA (EVALSHA) and sent whole
 * (EVAL) only when Redis answers NOSCRIPT, which it does without running anything. Decisions
 * that arrive in the same turn of the event loop travel in one script call; nothing is queued
 * while Redis is away, so nothing is replayed after an outage. Failures (timeouts, a lost connection) reject: the failover store above
 * applies each limit's onStoreFailure.
 *
 * Redis Cluster: a script may only touch keys of one slot, and a key's slot comes from its hash
 * tag, the subject it counts (see keyOf). A decision whose limits all count one subject is one
 * script, as on a single Redis. A decision over several subjects (per consumer and per IP) is
 * split into one part per slot; the parts run in parallel, one script each, and the request is
 * admitted only if every part admits. Each part is atomic and checks its limits against their
 * true counts, so no limit ever admits more than it allows; what is lost is all-or-nothing across
 * parts: a part that admitted has been charged even when another part refuses the request. That
 * errs towards refusing, never towards admitting. Concurrency leases such a part took are given
 * back at once, since a refused request never releases its leases; the other algorithms keep the
 * charge. Batching applies per slot: decisions (or parts) of one turn that share a slot travel in
 * one script call.
 */
import type { Cluster, Redis } from "ioredis";
import type { Decision, Verdict } from "../../limiter/decision.js";
import type { LeaseRelease, LimitCheck, Policy } from "../../limiter/policy.js";
import type { Clock, RateLimitStore } from "../store.js";
import { ALGORITHM_CODES, DECIDE_SCRIPT, DECIDE_SCRIPT_SHA, REPLY_FIELDS_PER_CHECK } from "./decideScript.js";

export interface RedisStoreOptions {
  /** A client made by `createRedisClient` or `createRedisCluster`, or any ioredis client set up the same way. */
  readonly client: Redis | Cluster;
  /** Prefix of every key; default "sluice:". */
  readonly keyPrefix?: string;
  /** Tests only: decide on this clock instead of the Redis server's. */
  readonly clock?: Clock;
  /** Send the decisions of one event-loop turn in one script call (per slot under Cluster); default true. */
  readonly batch?: boolean;
}

interface Pending {
  readonly checks: readonly LimitCheck[];
  readonly resolve: (verdict: Verdict) => void;
  readonly reject: (error: unknown) => void;
}

/** The checks of one decision that share a slot, and where they stand in the decision. */
interface Part {
  readonly slot: string;
  readonly checks: LimitCheck[];
  readonly positions: number[];
}

export class RedisStore implements RateLimitStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #batch: boolean;
  readonly #cluster: boolean;
  #queue: Pending[] = [];

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "sluice:";
    this.#clock = options.clock;
    this.#batch = options.batch ?? true;
    this.#cluster = options.client.isCluster;
    // Loaded on every (re)connection, so the first decision after a Redis restart does not spend
    // its deadline on a NOSCRIPT round trip; EVALSHA's fallback to EVAL stays for SCRIPT FLUSH.
    this.#client.on("ready", () => void this.#loadScript());
    if (this.#client.status === "ready") void this.#loadScript();
  }

  /**
   * Resolves once connected and the script is loaded, or false after `withinMs`. Without an
   * offline queue, a decision asked before the connection is up is answered by the failure
   * modes, so start-up waits for this.
   */
  ready(withinMs = 2_000): Promise<boolean> {
    if (this.#client.status === "ready") return this.#loadScript().then(() => true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), withinMs);
      const onReady = () => {
        void this.#loadScript().then(() => done(true));
      };
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.#client.off("ready", onReady);
        resolve(ready);
      };
      this.#client.once("ready", onReady);
    });
  }

  consume(checks: readonly LimitCheck[]): Promise<Verdict> {
    return new Promise((resolve, reject) => {
      const pending = { checks, resolve, reject };
      if (!this.#batch) this.#dispatch([pending]);
      else if (this.#queue.push(pending) === 1) setImmediate(() => this.#flush());
    });
  }

  async release(leases: readonly LeaseRelease[]): Promise<void> {
    await Promise.all(leases.map((l) => this.#client.zrem(this.#keyOf(l.key, ALGORITHM_CODES.concurrency), `${l.units}|${l.lease}`)));
  }

  async reset(key: string): Promise<void> {
    const names = Object.values(ALGORITHM_CODES).map((code) => this.#keyOf(key, code));
    // One DEL per key: under Cluster a multi-key DEL must stay within a slot, and these do.
    await Promise.all(names.map((name) => this.#client.del(name)));
  }

  async close(): Promise<void> {
    // QUIT waits for a reply, which a client that never connected will not get.
    if (this.#client.status === "ready") await this.#client.quit().catch(() => undefined);
    else this.#client.disconnect();
  }

  /** SCRIPT LOAD on the server, or on every master of a Cluster; a failure only costs an EVAL later. */
  async #loadScript(): Promise<void> {
    const servers = this.#cluster ? (this.#client as Cluster).nodes("master") : [this.#client as Redis];
    await Promise.all(servers.map((server) => server.script("LOAD", DECIDE_SCRIPT).catch(() => undefined)));
  }

  /** The Redis key of a check: `<prefix>{<subject>}<policy>:<algorithm>`. See keyOf. */
  redisKey(check: LimitCheck): string {
    return this.#keyOf(check.key, ALGORITHM_CODES[check.policy.algorithm]);
  }

  /**
   * Keys are `<policy>|<subject>`; the subject (what is counted: a consumer, an address) becomes
   * the hash tag, so in Redis Cluster every limit on one subject lives in one slot and one script
   * decides them together. The algorithm is part of the key, so changing a limit's algorithm
   * starts it afresh instead of misreading the old state.
   */
  #keyOf(key: string, code: string): string {
    const bar = key.indexOf("|");
    return bar < 0 ? `${this.#prefix}{${key}}:${code}` : `${this.#prefix}{${key.slice(bar + 1)}}${key.slice(0, bar)}:${code}`;
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#dispatch(batch);
  }

  /** Sends one script call per slot, carrying every part of every decision in that slot, and settles each decision from its parts. */
  #dispatch(batch: readonly Pending[]): void {
    const bySlot = new Map<string, Part[]>();
    const partsOf = batch.map((pending) => {
      const parts = this.#partsOf(pending.checks);
      for (const part of parts) {
        const inSlot = bySlot.get(part.slot);
        if (inSlot === undefined) bySlot.set(part.slot, [part]);
        else inSlot.push(part);
      }
      return parts;
    });
    const answers = new Map<Part, Promise<Verdict>>();
    for (const parts of bySlot.values()) {
      const sent = this.#send(parts.map((part) => part.checks));
      parts.forEach((part, i) => answers.set(part, sent.then((verdicts) => verdicts[i]!)));
    }
    batch.forEach((pending, i) => {
      const parts = partsOf[i]!;
      if (parts.length === 1) answers.get(parts[0]!)!.then(pending.resolve, pending.reject);
      else void Promise.allSettled(parts.map((part) => answers.get(part)!)).then((outcomes) => this.#combine(pending, parts, outcomes));
    });
  }

  /** One part per slot under Cluster; a single Redis takes any decision whole. */
  #partsOf(checks: readonly LimitCheck[]): Part[] {
    const whole = (): Part[] => [{ slot: "", checks: [...checks], positions: checks.map((_, i) => i) }];
    if (!this.#cluster || checks.length === 0) return whole();
    const bySlot = new Map<string, Part>();
    checks.forEach((check, i) => {
      const slot = hashedPart(this.redisKey(check));
      const part = bySlot.get(slot);
      if (part === undefined) bySlot.set(slot, { slot, checks: [check], positions: [i] });
      else {
        part.checks.push(check);
        part.positions.push(i);
      }
    });
    return [...bySlot.values()];
  }

  /**
   * A decision split over several slots: admitted only if every part admits. The verdict is on
   * the first part's clock; other parts' reset times are moved onto it, so "reset in n seconds"
   * still reads right when the nodes' clocks differ by a little.
   */
  #combine(pending: Pending, parts: readonly Part[], outcomes: readonly PromiseSettledResult<Verdict>[]): void {
    const decisions = new Array<Decision>(pending.checks.length);
    let allowed = true;
    let now: number | undefined;
    let failure: { readonly error: unknown } | undefined;
    outcomes.forEach((outcome, k) => {
      if (outcome.status === "rejected") {
        failure ??= { error: outcome.reason };
        return;
      }
      const verdict = outcome.value;
      now ??= verdict.now;
      const shift = now - verdict.now;
      parts[k]!.positions.forEach((position, j) => {
        const decision = verdict.decisions[j]!;
        decisions[position] = shift === 0 ? decision : { ...decision, resetAt: decision.resetAt + shift };
      });
      if (!verdict.allowed) allowed = false;
    });
    if (failure !== undefined || !allowed) this.#giveBackLeases(parts, outcomes);
    if (failure !== undefined) pending.reject(failure.error);
    else pending.resolve({ allowed, decisions, now: now! });
  }

  /** The refused request will never release the leases its admitting parts took; release them now. */
  #giveBackLeases(parts: readonly Part[], outcomes: readonly PromiseSettledResult<Verdict>[]): void {
    const leases: LeaseRelease[] = [];
    outcomes.forEach((outcome, k) => {
      if (outcome.status !== "fulfilled" || !outcome.value.allowed) return;
      parts[k]!.checks.forEach((check, j) => {
        if (check.policy.algorithm === "concurrency" && check.lease !== undefined && check.cost > 0 && outcome.value.decisions[j]!.allowed) {
          leases.push({ key: check.key, policy: check.policy, lease: check.lease, units: check.cost });
        }
      });
    });
    // If this fails too, the leases lapse with their window, as those of a crashed gateway do.
    if (leases.length > 0) this.release(leases).catch(() => undefined);
  }

  async #send(batch: readonly (readonly LimitCheck[])[]): Promise<Verdict[]> {
    const keys: string[] = [];
    const args: string[] = [this.#clock ? String(this.#clock()) : "", String(batch.length)];
    for (const checks of batch) {
      args.push(String(checks.length));
      for (const check of checks) {
        keys.push(this.redisKey(check));
        const { policy } = check;
        args.push(ALGORITHM_CODES[policy.algorithm], String(policy.limit), String(policy.windowMs), String(parameterOf(policy)), String(check.cost), policy.shadow === true ? "1" : "0", check.lease ?? "");
      }
    }
    const reply = await this.#evaluate(keys, args);
    const now = Number(reply[0]);
    let at = 1;
    return batch.map((checks) => {
      let allowed = true;
      const decisions = checks.map((check): Decision => {
        const [ok, remaining, resetAt, retry, reason] = reply.slice(at, (at += REPLY_FIELDS_PER_CHECK));
        const decision: Decision = {
          policy: check.policy,
          allowed: ok === "1",
          limit: check.policy.limit,
          remaining: Number(remaining),
          resetAt: Number(resetAt),
          ...(retry !== "" && { retryAfterMs: Number(retry) }),
          ...(reason === "cost" && { reason: "cost-exceeds-limit" as const }),
        };
        if (!decision.allowed && check.policy.shadow !== true) allowed = false;
        return decision;
      });
      return { allowed, decisions, now };
    });
  }

  /**
   * EVALSHA, then EVAL if Redis has not got the script (after a restart or SCRIPT FLUSH). Plain
   * EVALSHA rather than ioredis's defineCommand: auto-pipelining can read the first key of an
   * EVALSHA, and under Cluster that is what routes the call to its slot's node.
   */
  async #evaluate(keys: readonly string[], args: readonly string[]): Promise<string[]> {
    // Until a Cluster client has its first slot map, auto-pipelining holds commands back and sends
    // them once connected: an offline queue by another name, so refuse at once instead.
    if (this.#cluster && this.#client.status !== "ready") throw new Error(`the Redis Cluster is not connected (${this.#client.status})`);
    try {
      return (await this.#client.evalsha(DECIDE_SCRIPT_SHA, String(keys.length), ...keys, ...args)) as string[];
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return (await this.#client.eval(DECIDE_SCRIPT, String(keys.length), ...keys, ...args)) as string[];
    }
  }
}

/**
 * The part of a key Redis Cluster hashes into its slot: the text between the first "{" and the
 * first "}" after it, if that is not empty, else the whole key. Keys with equal hashed parts share
 * a slot, so grouping by it never puts keys of two slots in one script. (Two different hashed
 * parts may still share a slot; they then go in separate calls, which is merely one call more.)
 */
export function hashedPart(key: string): string {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/** The script's per-algorithm parameter: gcra burst, token-bucket capacity, 1 for a clock-aligned fixed window. */
function parameterOf(policy: Policy): number {
  switch (policy.algorithm) {
    case "gcra": return policy.burst ?? 0;
    case "token-bucket": return policy.capacity;
    case "fixed-window": return policy.align === "clock" ? 1 : 0;
    default: return 0;
  }
}
