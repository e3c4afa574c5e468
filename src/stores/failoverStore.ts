/**
 * What stands between the gateway and a shared store: a deadline on every decision, each limit's
 * failure mode when the deadline passes or the store fails, and a local cache of denials.
 *
 * - Deadline: a decision never waits longer than `timeoutMs`; then, per limit, `open` admits,
 *   `closed` refuses with 503 (reason "store-unavailable"), `local` asks an in-process limiter.
 * - Over-limit cache: once the store denies a key until T, this instance denies it locally until
 *   T without asking the store, so a flood from one abusive client costs the store nothing. It
 *   can only refuse what the store would refuse (same key, at least the same cost, before T).
 * - Outages are logged once when they begin and once when they end, with their duration, and
 *   reported with every store call's latency to an optional `StoreObserver` (the metrics module
 *   implements it, so this file knows nothing of Prometheus).
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { Decision, Verdict } from "../limiter/decision.js";
import type { LeaseRelease, LimitCheck } from "../limiter/policy.js";
import type { MemoryStore } from "./memoryStore.js";
import type { Clock, RateLimitStore } from "./store.js";

/**
 * What the failover store tells whoever watches it; `observability/metrics.ts` turns it into
 * Prometheus series.
 *
 * @example
 * new FailoverStore({ primary, fallback, timeoutMs: 50, logger, observer: metrics.storeObserver });
 */
export interface StoreObserver {
  /** A decision call to the primary answered or failed after `seconds` (a timed-out one at the deadline). */
  storeCall(seconds: number): void;
  /** The primary began failing: at start-up, or on the first failed decision since it last answered. */
  outageBegan(): void;
  /** The primary answered again after failing for `seconds`. */
  outageEnded(seconds: number): void;
}

export interface FailoverStoreOptions {
  readonly primary: RateLimitStore;
  /** Decides the `local` limits while the primary is failing. */
  readonly fallback: MemoryStore;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Most keys the over-limit cache remembers. */
  readonly maxCachedDenials?: number;
  readonly observer?: StoreObserver | undefined;
}

interface CachedDenial {
  readonly until: number;
  readonly cost: number;
  readonly decision: Decision;
}

export class FailoverStore implements RateLimitStore {
  readonly #primary: RateLimitStore;
  readonly #fallback: MemoryStore;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxCached: number;
  readonly #observer: StoreObserver | undefined;
  readonly #denied = new Map<string, CachedDenial>();
  #outageSince: number | undefined;

  constructor(options: FailoverStoreOptions) {
    this.#primary = options.primary;
    this.#fallback = options.fallback;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#clock = options.clock ?? Date.now;
    this.#maxCached = options.maxCachedDenials ?? 100_000;
    this.#observer = options.observer;
  }

  consume(checks: readonly LimitCheck[]): Verdict | Promise<Verdict> {
    const now = this.#clock();
    const cached = this.#cachedDenial(checks, now);
    if (cached !== undefined) return cached;
    const started = performance.now();
    return this.#withDeadline(this.#primary.consume(checks)).then(
      (verdict) => {
        this.#observer?.storeCall((performance.now() - started) / 1000);
        this.#recovered(now);
        if (!verdict.allowed) this.#remember(checks, verdict, now);
        return verdict;
      },
      (error: unknown) => {
        this.#observer?.storeCall((performance.now() - started) / 1000);
        return this.#failed(checks, error, now);
      },
    );
  }

  async ready(): Promise<boolean> {
    const ready = (await this.#primary.ready?.()) ?? true;
    if (!ready && this.#outageSince === undefined) {
      // The outage begins now, so the degraded gauge says so before the first request fails.
      this.#outageSince = this.#clock();
      this.#observer?.outageBegan();
      this.#logger.warn("the limiter store is not reachable at start-up; limits apply their onStoreFailure mode until it is");
    }
    return ready;
  }

  async release(leases: readonly LeaseRelease[]): Promise<void> {
    this.#fallback.release(leases);
    await this.#withDeadline(Promise.resolve(this.#primary.release(leases))).catch(() => undefined);
  }

  async reset(key: string): Promise<void> {
    this.#denied.delete(key);
    this.#fallback.reset(key);
    await this.#primary.reset(key);
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#fallback.close()]);
  }

  #withDeadline<T>(work: T | Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the limiter store did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([Promise.resolve(work), deadline]).finally(() => clearTimeout(timer));
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

  #failed(checks: readonly LimitCheck[], error: unknown, now: number): Verdict {
    if (this.#outageSince === undefined) {
      this.#outageSince = now;
      this.#observer?.outageBegan();
      this.#logger.warn({ err: error }, "the limiter store is failing; limits apply their onStoreFailure mode (open, closed or local)");
    }
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

  #recovered(now: number): void {
    if (this.#outageSince === undefined) return;
    // A decision that began before the outage may answer after it began: the outage lasted at least 0.
    const outageMs = Math.max(0, now - this.#outageSince);
    this.#outageSince = undefined;
    this.#observer?.outageEnded(outageMs / 1000);
    this.#logger.info({ outageMs }, "the limiter store answers again");
  }
}
