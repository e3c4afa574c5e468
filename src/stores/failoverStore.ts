/**
 * What stands between the gateway and a shared store: each limit's failure mode when the store
 * cannot decide in time, a breaker that judges whether the store is failing, refunds for charges
 * no caller was told of, and a local cache of denials.
 *
 * - Deadline: the shared store rejects a decision its server has not answered within its
 *   deadline (measured from the call's write; see redisStore.ts). Then, per limit, `open` admits,
 *   `closed` refuses with 503 (reason "store-unavailable"), `local` asks an in-process limiter.
 * - Breaker (breaker.ts): once the store has failed without a break for a deadline's length, it
 *   is failing, and decisions get their failure modes at once, without waiting for it, until
 *   probes find it answering again.
 * - No charge without an answer: a decision that missed its deadline may still run. When its
 *   reply comes and shows a charge for a caller the failure modes refused, the charge is given
 *   back (SharedStore.refund). A caller the failure modes admitted keeps the charge: it was
 *   admitted, and the count is right.
 * - Over-limit cache: once the store denies a key until T, this instance denies it locally until
 *   T without asking the store, so a flood from one abusive client costs the store nothing. It
 *   can only refuse what the store would refuse (same key, at least the same cost, before T).
 * - Outages (the breaker open) are logged once when they begin and once when they end, with their
 *   duration, and reported with every store call's latency to an optional `StoreObserver` (the
 *   metrics module implements it, so this file knows nothing of Prometheus).
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { Decision, Verdict } from "../limiter/decision.js";
import type { LeaseRelease, LimitCheck } from "../limiter/policy.js";
import { Breaker } from "./breaker.js";
import type { MemoryStore } from "./memoryStore.js";
import type { Clock } from "../limits/clock.js";
import type { LateEffect, StoreObserver } from "../observability/observers.js";
import { StoreTimeout, type LateOutcome, type RateLimitStore, type SharedStore } from "./store.js";

export interface FailoverStoreOptions {
  readonly primary: SharedStore;
  /** Decides the `local` limits while the primary is failing. */
  readonly fallback: MemoryStore;
  /** The primary's decision deadline (limiter.timeout): failures must go on this long to open the breaker. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Most keys the over-limit cache remembers. */
  readonly maxCachedDenials?: number;
  readonly observer?: StoreObserver | undefined;
  /** First wait before probing a failing store (default 25 ms). */
  readonly probeIntervalMs?: number;
}

interface CachedDenial {
  readonly until: number;
  readonly cost: number;
  readonly decision: Decision;
}

export class FailoverStore implements RateLimitStore {
  readonly #primary: SharedStore;
  readonly #fallback: MemoryStore;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxCached: number;
  readonly #observer: StoreObserver | undefined;
  readonly #breaker: Breaker;
  readonly #denied = new Map<string, CachedDenial>();
  #outageSince: number | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: FailoverStoreOptions) {
    this.#primary = options.primary;
    this.#fallback = options.fallback;
    this.#logger = options.logger;
    this.#clock = options.clock ?? Date.now;
    this.#maxCached = options.maxCachedDenials ?? 100_000;
    this.#observer = options.observer;
    this.#breaker = new Breaker({ spanMs: options.timeoutMs, ...(options.probeIntervalMs !== undefined && { probeIntervalMs: options.probeIntervalMs }) });
  }

  /** Decisions waiting for the shared store: the load shedder's measure of queued work. */
  get pending(): number {
    return this.#primary.pending;
  }

  /** True while the breaker is open: decisions get their failure modes without asking the store. */
  get failing(): boolean {
    return this.#breaker.isOpen;
  }

  consume(checks: readonly LimitCheck[]): Verdict | Promise<Verdict> {
    const now = this.#clock();
    const cached = this.#cachedDenial(checks, now);
    if (cached !== undefined) return cached;
    if (this.#breaker.isOpen) return this.#failureVerdict(checks, now);
    const started = performance.now();
    return this.#primary.consume(checks).then(
      (verdict) => {
        this.#observer?.storeCall((performance.now() - started) / 1000);
        this.#breaker.answered();
        if (!verdict.allowed) this.#remember(checks, verdict, now);
        return verdict;
      },
      (error: unknown) => {
        this.#observer?.storeCall((performance.now() - started) / 1000);
        const timedOut = error instanceof StoreTimeout;
        this.#observer?.storeFailure(timedOut ? "timeout" : "error");
        const since = this.#breaker.failed(this.#clock());
        if (since !== undefined) this.#outageBegan(since, error);
        const told = this.#failureVerdict(checks, now);
        if (timedOut) {
          error.late.then((late) => this.#settleLate(told, late)).catch((lateError: unknown) => {
            this.#logger.warn({ err: lateError }, "could not settle a decision answered after its deadline");
          });
        }
        return told;
      },
    );
  }

  async ready(): Promise<boolean> {
    const ready = (await this.#primary.ready?.()) ?? true;
    if (!ready && !this.#breaker.isOpen) {
      this.#breaker.trip();
      this.#outageBegan(this.#clock(), undefined, "the limiter store is not reachable at start-up; limits apply their onStoreFailure mode until it is");
    }
    return ready;
  }

  async release(leases: readonly LeaseRelease[]): Promise<void> {
    this.#fallback.release(leases);
    // An open breaker would only add a call that fails: the leases lapse with their window.
    if (!this.#breaker.isOpen) await Promise.resolve(this.#primary.release(leases)).catch(() => undefined);
  }

  async reset(key: string): Promise<void> {
    this.#denied.delete(key);
    this.#fallback.reset(key);
    await this.#primary.reset(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    await Promise.all([this.#primary.close(), this.#fallback.close()]);
  }

  /**
   * A decision that missed its deadline ran after all. Its caller got `told`; if that refused the
   * call and the store charged it, the charge is given back.
   */
  #settleLate(told: Verdict, late: LateOutcome | undefined): void {
    if (late === undefined) return;
    let effect: LateEffect = "none";
    if (late.charged.length > 0) effect = told.allowed ? "kept" : "refunded";
    else if (told.allowed && !late.verdict.allowed) effect = "over-admitted";
    this.#observer?.lateReply(effect);
    if (effect !== "refunded") return;
    this.#primary.refund(late.charged, late.verdict.now).catch((error: unknown) => {
      // The charge stays and lapses with its window: it errs towards refusing, never admitting.
      this.#logger.warn({ err: error }, "could not give back the charge of a decision answered by its failure mode");
    });
  }

  #cachedDenial(checks: readonly LimitCheck[], now: number): Verdict | undefined {
    if (this.#denied.size === 0) return undefined;
    let decisions: Decision[] | undefined;
    for (const check of checks) {
      const entry = this.#denied.get(check.key);
      if (entry === undefined) continue;
      if (entry.until <= now) {
        this.#denied.delete(check.key);
        continue;
      }
      if (check.cost < entry.cost || check.policy !== entry.decision.policy) continue;
      (decisions ??= []).push({ ...entry.decision, retryAfterMs: entry.until - now });
    }
    return decisions && { allowed: false, decisions, now, via: "over-limit-cache" };
  }

  /** Remembers each enforced denial whose wait is known (a concurrency slot may free at any time). */
  #remember(checks: readonly LimitCheck[], verdict: Verdict, now: number): void {
    verdict.decisions.forEach((decision, i) => {
      const check = checks[i];
      if (check === undefined || decision.allowed || decision.retryAfterMs === undefined) return;
      if (check.policy.shadow === true || check.policy.algorithm === "concurrency") return;
      if (this.#denied.size >= this.#maxCached) this.#denied.delete(this.#denied.keys().next().value!);
      // Relative to our clock: the store's clock may differ, the wait does not.
      this.#denied.set(check.key, { until: now + decision.retryAfterMs, cost: check.cost, decision });
    });
  }

  /** Each limit's failure mode: open admits, closed refuses, local asks the in-process limiter. */
  #failureVerdict(checks: readonly LimitCheck[], now: number): Verdict {
    const local = checks.filter((c) => c.policy.onStoreFailure === "local");
    const localVerdict = local.length > 0 ? this.#fallback.consume(local) : undefined;
    let at = 0;
    let allowed = localVerdict?.allowed ?? true;
    const decisions = checks.map((check): Decision => {
      const { policy } = check;
      switch (policy.onStoreFailure) {
        case "local": return localVerdict!.decisions[at++]!;
        case "closed":
          if (policy.shadow !== true) allowed = false;
          return { policy, allowed: false, limit: policy.limit, remaining: 0, resetAt: now, retryAfterMs: 1000, reason: "store-unavailable" };
        default: return { policy, allowed: true, limit: policy.limit, remaining: policy.limit, resetAt: now };
      }
    });
    return { allowed, decisions, now, via: "store-failure" };
  }

  #outageBegan(since: number, error: unknown, message = "the limiter store is failing; limits apply their onStoreFailure mode (open, closed or local) until probes find it answering"): void {
    this.#outageSince = since;
    this.#observer?.outageBegan();
    this.#logger.warn(error === undefined ? {} : { err: error }, message);
    this.#scheduleProbe(this.#breaker.probeIntervalMs);
  }

  /** One chain of probes per outage: each probe schedules the next until the breaker closes. */
  #scheduleProbe(delayMs: number): void {
    clearTimeout(this.#probeTimer);
    if (this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      if (this.#closed || !this.#breaker.isOpen) return;
      const answered = (ok: boolean) => {
        if (this.#closed || !this.#breaker.isOpen) return;
        const next = this.#breaker.probed(ok);
        if (next === undefined) this.#recovered();
        else this.#scheduleProbe(next);
      };
      this.#primary.probe().then(() => answered(true), () => answered(false));
    }, delayMs).unref();
  }

  #recovered(): void {
    const outageMs = Math.max(0, this.#clock() - (this.#outageSince ?? this.#clock()));
    this.#outageSince = undefined;
    this.#observer?.outageEnded(outageMs / 1000);
    this.#logger.info({ outageMs }, "the limiter store answers again");
  }
}
