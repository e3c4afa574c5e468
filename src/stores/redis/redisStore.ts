/**
 * The shared limiter store: limit state in Redis, so many gateway instances enforce one limit
 * exactly. Each decision, whatever number of limits it checks, is one atomic Lua script with the
 * server's clock (gateway clocks may drift); the script is called by SHA and reloaded when Redis
 * answers NOSCRIPT (ioredis's defineCommand). Decisions that arrive in the same turn of the event
 * loop travel in one script call; nothing is queued while Redis is away, so nothing is replayed
 * after an outage. Failures (timeouts, a lost connection) reject: the failover store above
 * applies each limit's onStoreFailure.
 */
import type { Cluster, Redis } from "ioredis";
import type { Decision, Verdict } from "../../limiter/decision.js";
import type { LeaseRelease, LimitCheck, Policy } from "../../limiter/policy.js";
import type { Clock, RateLimitStore } from "../store.js";
import { ALGORITHM_CODES, DECIDE_SCRIPT, REPLY_FIELDS_PER_CHECK } from "./decideScript.js";

export interface RedisStoreOptions {
  /** A client made by `createRedisClient`, or any ioredis client set up the same way. */
  readonly client: Redis | Cluster;
  /** Prefix of every key; default "sluice:". */
  readonly keyPrefix?: string;
  /** Tests only: decide on this clock instead of the Redis server's. */
  readonly clock?: Clock;
  /** Send the decisions of one event-loop turn in one script call; default true (standalone only). */
  readonly batch?: boolean;
}

type DecideCommand = (...keysThenArgs: string[]) => Promise<string[]>;

interface Pending {
  readonly checks: readonly LimitCheck[];
  readonly resolve: (verdict: Verdict) => void;
  readonly reject: (error: unknown) => void;
}

export class RedisStore implements RateLimitStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #batch: boolean;
  readonly #decide: DecideCommand;
  #queue: Pending[] = [];

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "sluice:";
    this.#clock = options.clock;
    this.#batch = (options.batch ?? true) && !("nodes" in options.client);
    if (!("sluiceDecide" in this.#client)) this.#client.defineCommand("sluiceDecide", { lua: DECIDE_SCRIPT });
    const client = this.#client as unknown as { sluiceDecide: DecideCommand };
    this.#decide = (...args) => client.sluiceDecide(...args);
  }

  /**
   * Resolves once connected, or false after `withinMs`. Without an offline queue, a decision asked
   * before the connection is up is answered by the failure modes, so start-up waits for this.
   */
  ready(withinMs = 2_000): Promise<boolean> {
    if (this.#client.status === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), withinMs);
      const onReady = () => done(true);
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.#client.off("ready", onReady);
        resolve(ready);
      };
      this.#client.once("ready", onReady);
    });
  }

  consume(checks: readonly LimitCheck[]): Promise<Verdict> {
    if (!this.#batch) return this.#send([checks]).then((verdicts) => verdicts[0]!);
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ checks, resolve, reject }) === 1) setImmediate(() => this.#flush());
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
    this.#send(batch.map((p) => p.checks)).then(
      (verdicts) => batch.forEach((p, i) => p.resolve(verdicts[i]!)),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
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
    const reply = await this.#decide(String(keys.length), ...keys, ...args);
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
