/**
 * The shared limiter store: limit state in Redis, so many gateway instances enforce one limit
 * exactly. Each decision, whatever number of limits it checks, is decided atomically by a Lua
 * script with the server's clock (gateway clocks may drift); the script is called by SHA
 * (EVALSHA) and sent whole (EVAL) only when Redis answers NOSCRIPT, which it does without running
 * anything. Nothing is queued while Redis is away, so nothing is replayed after an outage.
 *
 * Batching. Decisions asked in the same turn of the event loop travel together: in calls of up to
 * MAX_DECISIONS_PER_CALL, all written at once. Each policy a call's checks share is sent once, and
 * the reply's numbers are integers where they can be, so a decision costs Redis and this process
 * a few fields, not a round trip. Decisions asked while a reply is being handed out, when none
 * were waiting (callers that ask again as soon as they are answered), leave at the end of that
 * tick, not after the next poll.
 * Together these keep both sides busy: Redis runs one call while this process reads the answer to
 * another and writes the next (bench/README.md, "the limiter engine").
 *
 * The deadline (`timeoutMs`) measures Redis, not this process: it starts when a call is written
 * to the socket, not when a decision is asked (the wait for the turn's batch is our own time), and
 * when it fires, the call is given one more turn of the event loop, in which a reply that has
 * arrived but is not yet read is read. Only then do its decisions reject, with a StoreTimeout
 * whose `late` says what the call did if its reply comes after all: the failover store above
 * applies each limit's onStoreFailure, and gives back a charge its caller was refused.
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
 * charge. Batching applies per slot: parts of one turn that share a slot travel in one call.
 */
import type { Cluster, Redis } from "ioredis";
import { registrationOf } from "../../limiter/algorithms/index.js";
import type { Decision, Verdict } from "../../limiter/decision.js";
import type { LeaseRelease, LimitCheck, Policy } from "../../limiter/policy.js";
import type { Clock } from "../../limits/clock.js";
import { StoreTimeout, type LateOutcome, type SharedStore } from "../store.js";
import { ALGORITHM_CODES, DECIDE_SCRIPT, DECIDE_SCRIPT_SHA, REPLY_FIELDS } from "./decideScript.js";
import { REFUND_SCRIPT, REFUND_SCRIPT_SHA } from "./refundScript.js";

export interface RedisStoreOptions {
  /** A client made by `createRedisClient` or `createRedisCluster`, or any ioredis client set up the same way. */
  readonly client: Redis | Cluster;
  /** Prefix of every key; default "sluice:". */
  readonly keyPrefix?: string;
  /** Tests only: decide on this clock instead of the Redis server's. */
  readonly clock?: Clock;
  /** Send the decisions of one event-loop turn in one script call (per slot under Cluster); default true. */
  readonly batch?: boolean;
  /**
   * Longest wait for a call's reply, from when it is written (plus one turn of the event loop to
   * read what has arrived); then its decisions reject with StoreTimeout. Default: no deadline of
   * the store's own (the client's command timeout still applies).
   */
  readonly timeoutMs?: number;
}

/**
 * Most decisions in one script call. Larger calls cost Redis less per decision (a call's own cost
 * is a few µs), smaller ones let Redis and this process work at the same time. Measured with 100
 * callers (bench/README.md): 50 made about 200,000 decisions/s where 1,000 made 110,000 and 32
 * made 185,000.
 */
export const MAX_DECISIONS_PER_CALL = 50;

/** What one script call carries: a whole decision, or under Cluster the part of one in a slot. */
interface Unit {
  readonly checks: readonly LimitCheck[];
  done(verdict: Verdict): void;
  fail(error: unknown): void;
}

/** A decision waiting for its call's reply. */
class Pending implements Unit {
  constructor(
    readonly checks: readonly LimitCheck[],
    private readonly resolve: (verdict: Verdict) => void,
    private readonly reject: (error: unknown) => void,
    private readonly settled: () => void,
  ) {}

  done(verdict: Verdict): void {
    this.settled();
    this.resolve(verdict);
  }

  fail(error: unknown): void {
    this.settled();
    this.reject(error);
  }
}

/** The script's parameter of a policy: its algorithm's parameterOf (a GCRA burst, a bucket's capacity, …). */
function parameterOf(policy: Policy): number {
  return registrationOf(policy.algorithm).lua.parameterOf(policy);
}

/** The script fields of a policy, formatted once per policy object rather than once per check. */
const policyFields = new WeakMap<Policy, readonly string[]>();
function fieldsOf(policy: Policy): readonly string[] {
  let fields = policyFields.get(policy);
  if (fields === undefined) {
    fields = [ALGORITHM_CODES[policy.algorithm], String(policy.limit), String(policy.windowMs), String(parameterOf(policy)), policy.shadow === true ? "1" : "0"];
    policyFields.set(policy, fields);
  }
  return fields;
}

export class RedisStore implements SharedStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #batch: boolean;
  readonly #cluster: boolean;
  readonly #timeoutMs: number | undefined;
  readonly #settled = () => {
    this.#pending--;
  };
  #queue: Pending[] = [];
  #pending = 0;

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "sluice:";
    this.#clock = options.clock;
    this.#batch = options.batch ?? true;
    this.#cluster = options.client.isCluster;
    this.#timeoutMs = options.timeoutMs;
    // Loaded on every (re)connection, so the first decision after a Redis restart does not spend
    // its deadline on a NOSCRIPT round trip; EVALSHA's fallback to EVAL stays for SCRIPT FLUSH.
    this.#client.on("ready", () => void this.#loadScripts());
    if (this.#client.status === "ready") void this.#loadScripts();
  }

  /** Decisions asked and not yet answered. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Resolves once connected and the scripts are loaded, or false after `withinMs`. Without an
   * offline queue, a decision asked before the connection is up is answered by the failure
   * modes, so start-up waits for this.
   */
  ready(withinMs = 2_000): Promise<boolean> {
    if (this.#client.status === "ready") return this.#loadScripts().then(() => true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), withinMs);
      const onReady = () => {
        void this.#loadScripts().then(() => done(true));
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
    this.#pending++;
    return new Promise((resolve, reject) => {
      const pending = new Pending(checks, resolve, reject, this.#settled);
      if (!this.#batch) this.#dispatch([pending]);
      else if (this.#queue.push(pending) === 1) setImmediate(this.#flush);
    });
  }

  /** A decision with no checks, in a call of its own under the same deadline: is Redis answering? */
  probe(): Promise<void> {
    return new Promise((resolve, reject) => this.#call([{ checks: [], done: () => resolve(), fail: reject }]));
  }

  async refund(checks: readonly LimitCheck[], at: number): Promise<void> {
    const bySlot = new Map<string, LimitCheck[]>();
    for (const check of checks) {
      const slot = this.#cluster ? hashedPart(this.redisKey(check)) : "";
      const inSlot = bySlot.get(slot);
      if (inSlot === undefined) bySlot.set(slot, [check]);
      else inSlot.push(check);
    }
    await Promise.all([...bySlot.values()].map((inSlot) => {
      const keys = inSlot.map((check) => this.redisKey(check));
      const args = [this.#clock ? String(this.#clock()) : "", String(at)];
      for (const { policy, cost, lease } of inSlot) args.push(ALGORITHM_CODES[policy.algorithm], String(policy.limit), String(policy.windowMs), String(parameterOf(policy)), String(cost), lease ?? "");
      return this.#evaluate(REFUND_SCRIPT_SHA, REFUND_SCRIPT, keys, args);
    }));
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
  async #loadScripts(): Promise<void> {
    const servers = this.#cluster ? (this.#client as Cluster).nodes("master") : [this.#client as Redis];
    await Promise.all(servers.flatMap((server) => [DECIDE_SCRIPT, REFUND_SCRIPT].map((script) => server.script("LOAD", script).catch(() => undefined))));
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

  readonly #flush = (): void => {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#dispatch(batch);
  };

  /** Sends a turn's decisions: in calls of at most MAX_DECISIONS_PER_CALL, and under Cluster one call per slot. */
  #dispatch(batch: readonly Pending[]): void {
    if (!this.#cluster) {
      for (let from = 0; from < batch.length; from += MAX_DECISIONS_PER_CALL) this.#call(batch.length <= MAX_DECISIONS_PER_CALL ? batch : batch.slice(from, from + MAX_DECISIONS_PER_CALL));
      return;
    }
    const bySlot = new Map<string, Unit[]>();
    for (const pending of batch) {
      for (const [slot, unit] of this.#partsOf(pending)) {
        const inSlot = bySlot.get(slot);
        if (inSlot === undefined) bySlot.set(slot, [unit]);
        else inSlot.push(unit);
      }
    }
    for (const units of bySlot.values()) {
      for (let from = 0; from < units.length; from += MAX_DECISIONS_PER_CALL) this.#call(units.slice(from, from + MAX_DECISIONS_PER_CALL));
    }
  }

  /**
   * One script call: written now, settled by its reply, or at its deadline (one turn after the
   * timer, so a reply already received is read first) with a StoreTimeout for each unit.
   */
  #call(units: readonly Unit[]): void {
    const keys: string[] = [];
    const args = this.#encode(units, keys);
    const reply = this.#evaluate(DECIDE_SCRIPT_SHA, DECIDE_SCRIPT, keys, args) as Promise<(number | string)[]>;
    const parse = (fields: (number | string)[]): Verdict[] => parseReply(fields, units);
    let answered = false;
    const timeoutMs = this.#timeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => setImmediate(() => {
      if (answered) return;
      answered = true;
      // Never rejects: a reply that cannot be read tells as little as none.
      const late = reply.then(parse).then(undefined, () => undefined);
      units.forEach((unit, i) => unit.fail(new StoreTimeout(timeoutMs, late.then((verdicts) => verdicts && lateOutcome(unit.checks, verdicts[i]!)))));
    }), timeoutMs);
    reply.then(
      (fields) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        let verdicts: Verdict[];
        try {
          verdicts = parse(fields);
        } catch (error) {
          for (const unit of units) unit.fail(error);
          return;
        }
        units.forEach((unit, i) => unit.done(verdicts[i]!));
        // Callers that ask again as soon as they are answered (a service's client, a loop) are
        // sent at the end of this tick, while Redis works on the calls still in flight, rather
        // than after the next poll of the event loop. Decisions already waiting for the turn's
        // flush (requests read earlier in this poll) are not split from those still to come.
        if (this.#batch && this.#queue.length === 0) process.nextTick(this.#flush);
      },
      (error: unknown) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        for (const unit of units) unit.fail(error);
      },
    );
  }

  /** The call's ARGV (see decideScript.ts), its keys pushed onto `keys`. */
  #encode(units: readonly Unit[], keys: string[]): string[] {
    const policies = new Map<Policy, string>();
    const head = [this.#clock ? String(this.#clock()) : "", ""];
    const tail = [String(units.length)];
    for (const { checks } of units) {
      tail.push(String(checks.length));
      for (const check of checks) {
        keys.push(this.redisKey(check));
        let place = policies.get(check.policy);
        if (place === undefined) {
          place = String(policies.size + 1);
          policies.set(check.policy, place);
          head.push(...fieldsOf(check.policy));
        }
        tail.push(place, String(check.cost), check.lease ?? "");
      }
    }
    head[1] = String(policies.size);
    return head.concat(tail);
  }

  /** One part per slot, each a unit of its own; the decision settles once every part has. */
  #partsOf(pending: Pending): [string, Unit][] {
    const bySlot = new Map<string, { checks: LimitCheck[]; positions: number[] }>();
    pending.checks.forEach((check, i) => {
      const slot = hashedPart(this.redisKey(check));
      const part = bySlot.get(slot);
      if (part === undefined) bySlot.set(slot, { checks: [check], positions: [i] });
      else {
        part.checks.push(check);
        part.positions.push(i);
      }
    });
    if (bySlot.size <= 1) return [[bySlot.keys().next().value ?? "", pending]];
    const parts = [...bySlot.values()];
    const outcomes = new Array<PromiseSettledResult<Verdict> | undefined>(parts.length);
    let left = parts.length;
    const settle = (k: number, outcome: PromiseSettledResult<Verdict>) => {
      outcomes[k] = outcome;
      if (--left === 0) this.#combine(pending, parts, outcomes as PromiseSettledResult<Verdict>[]);
    };
    return [...bySlot.keys()].map((slot, k): [string, Unit] => [slot, {
      checks: parts[k]!.checks,
      done: (value) => settle(k, { status: "fulfilled", value }),
      fail: (reason) => settle(k, { status: "rejected", reason }),
    }]);
  }

  /**
   * A decision split over several slots: admitted only if every part admits. The verdict is on
   * the first part's clock; other parts' reset times are moved onto it, so "reset in n seconds"
   * still reads right when the nodes' clocks differ by a little.
   */
  #combine(pending: Pending, parts: readonly { checks: readonly LimitCheck[]; positions: readonly number[] }[], outcomes: readonly PromiseSettledResult<Verdict>[]): void {
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
    if (failure !== undefined) pending.fail(failure.error);
    else pending.done({ allowed, decisions, now: now! });
  }

  /** The refused request will never release the leases its admitting parts took; release them now. */
  #giveBackLeases(parts: readonly { checks: readonly LimitCheck[] }[], outcomes: readonly PromiseSettledResult<Verdict>[]): void {
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

  /**
   * EVALSHA, then EVAL if Redis has not got the script (after a restart or SCRIPT FLUSH). The
   * client writes the call at once (no auto-pipelining: this store batches decisions itself, and
   * the deadline starts at the write).
   */
  async #evaluate(sha: string, script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    // Until a Cluster client has its first slot map, it holds commands back and sends them once
    // connected: an offline queue by another name, so refuse at once instead.
    if (this.#cluster && this.#client.status !== "ready") throw new Error(`the Redis Cluster is not connected (${this.#client.status})`);
    try {
      return await this.#client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return await this.#client.eval(script, keys.length, ...keys, ...args);
    }
  }
}

/** Each unit's verdict, from the script's reply: integers as they are, other numbers as text. */
function parseReply(reply: readonly (number | string)[], units: readonly Unit[]): Verdict[] {
  const now = Number(reply[0]);
  let at = 1;
  return units.map(({ checks }) => {
    let allowed = true;
    const decisions = new Array<Decision>(checks.length);
    for (let i = 0; i < checks.length; i++, at += REPLY_FIELDS) {
      const { policy } = checks[i]!;
      const retry = Number(reply[at + 3]);
      const remaining = Number(reply[at + 1]);
      const resetAt = Number(reply[at + 2]);
      const decision: Decision = retry < 0
        ? { policy, allowed: reply[at] === 1, limit: policy.limit, remaining, resetAt }
        : reply[at + 4] === 1
          ? { policy, allowed: false, limit: policy.limit, remaining, resetAt, retryAfterMs: retry, reason: "cost-exceeds-limit" }
          : { policy, allowed: false, limit: policy.limit, remaining, resetAt, retryAfterMs: retry };
      if (!decision.allowed && policy.shadow !== true) allowed = false;
      decisions[i] = decision;
    }
    if (at > reply.length) throw new Error(`the limiter script answered ${reply.length} fields for ${at} expected`);
    return { allowed, decisions, now };
  });
}

/** What an admitted verdict charged: every admitted check with a cost (a refused one, nothing). */
function lateOutcome(checks: readonly LimitCheck[], verdict: Verdict): LateOutcome {
  return { verdict, charged: verdict.allowed ? checks.filter((check, i) => check.cost > 0 && verdict.decisions[i]!.allowed) : [] };
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
