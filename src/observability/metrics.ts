/**
 * Prometheus metrics of one Sluice instance: a registry of its own (never prom-client's global
 * one, so several gateways in one process keep apart), the default process metrics, and the
 * limiter's series. The control plane serves them at `GET /metrics`; docs/operations.md lists
 * every series.
 *
 * Hot path: the limit stage counts into plain numbers held per limit name (`LimitCounts`), and
 * prom-client reads them only when scraped, so a request pays a Map lookup and an increment per
 * limit, with no label hashing or string building. The failover store reports through the
 * `StoreObserver` it declares, so the stores never import prom-client.
 *
 * @example
 * const metrics = createMetrics({ limits: ["per-client"] });
 * limit({ store, logger, metrics: metrics.limiter });
 * new FailoverStore({ primary, fallback, timeoutMs: 50, logger, observer: metrics.storeObserver });
 * reply.type(metrics.contentType).send(await metrics.render());
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Verdict } from "../limiter/decision.js";
import type { StoreObserver } from "../stores/failoverStore.js";

/** What one limit did with one request, the `outcome` label of `sluice_limiter_decisions_total`. */
export const LIMITER_OUTCOMES = ["allowed", "limited", "shadow_limited", "store_failure_open", "store_failure_closed", "store_failure_local"] as const;
export type LimiterOutcome = (typeof LIMITER_OUTCOMES)[number];

/** Buckets of a store call, in seconds: a healthy Redis answers well under the default 50 ms deadline. */
const STORE_CALL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Buckets of a store outage, in seconds: from a blip to an hour. */
const OUTAGE_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

/** One limit's running counts; only ever incremented. */
export class LimitCounts {
  allowed = 0;
  limited = 0;
  shadowLimited = 0;
  storeFailureOpen = 0;
  storeFailureClosed = 0;
  storeFailureLocal = 0;
  overLimitCacheHits = 0;

  count(outcome: LimiterOutcome): number {
    switch (outcome) {
      case "allowed": return this.allowed;
      case "limited": return this.limited;
      case "shadow_limited": return this.shadowLimited;
      case "store_failure_open": return this.storeFailureOpen;
      case "store_failure_closed": return this.storeFailureClosed;
      case "store_failure_local": return this.storeFailureLocal;
    }
  }
}

/**
 * The limit stage's side: every decision of every verdict, by limit and outcome.
 *
 * @example
 * const verdict = await store.consume(checks);
 * metrics.limiter.record(verdict);
 */
export class LimiterMetrics {
  readonly #byLimit = new Map<string, LimitCounts>();
  /** Verdicts (requests) answered by the limits' failure modes because the store failed. */
  storeFailures = 0;

  /** Limits known up front show in /metrics at zero before their first request. */
  constructor(limits: Iterable<string> = []) {
    for (const name of limits) this.forLimit(name);
  }

  forLimit(name: string): LimitCounts {
    let counts = this.#byLimit.get(name);
    if (counts === undefined) this.#byLimit.set(name, (counts = new LimitCounts()));
    return counts;
  }

  /**
   * Counts each decision once under its limit. A verdict from the over-limit cache holds only the
   * denials the cache remembered: those count as `limited` (and as cache hits), the request's
   * other limits were not asked and do not count.
   */
  record(verdict: Verdict): void {
    const failed = verdict.via === "store-failure";
    if (failed) this.storeFailures++;
    const cached = verdict.via === "over-limit-cache";
    for (const decision of verdict.decisions) {
      const counts = this.forLimit(decision.policy.name);
      if (failed) {
        if (decision.reason === "store-unavailable") counts.storeFailureClosed++;
        else if (decision.policy.onStoreFailure === "local") counts.storeFailureLocal++;
        else counts.storeFailureOpen++;
      } else if (decision.allowed) counts.allowed++;
      else if (decision.policy.shadow === true) counts.shadowLimited++;
      else counts.limited++;
      if (cached) counts.overLimitCacheHits++;
    }
  }

  entries(): IterableIterator<[string, LimitCounts]> {
    return this.#byLimit.entries();
  }
}

export interface MetricsOptions {
  /** Names of the configured limits, shown at zero from the start. */
  readonly limits?: Iterable<string>;
  /** Also export prom-client's process and Node.js metrics (default true). */
  readonly processMetrics?: boolean;
}

export interface SluiceMetrics {
  readonly registry: Registry;
  readonly limiter: LimiterMetrics;
  /** Pass to the failover store; a memory store never calls it. */
  readonly storeObserver: StoreObserver;
  /** The Prometheus text format's media type, for the response to a scrape. */
  readonly contentType: string;
  /** Every series in the Prometheus text format. */
  render(): Promise<string>;
}

export function createMetrics({ limits = [], processMetrics = true }: MetricsOptions = {}): SluiceMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const limiter = new LimiterMetrics(limits);

  new Counter({
    name: "sluice_limiter_decisions_total",
    help: "Decisions by limit and outcome: one per limit that decided a request.",
    labelNames: ["limit", "outcome"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, counts] of limiter.entries()) {
        for (const outcome of LIMITER_OUTCOMES) this.inc({ limit: name, outcome }, counts.count(outcome));
      }
    },
  });
  new Counter({
    name: "sluice_limiter_over_limit_cache_hits_total",
    help: "Denials answered from the over-limit cache without asking the shared store, by limit.",
    labelNames: ["limit"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, counts] of limiter.entries()) this.inc({ limit: name }, counts.overLimitCacheHits);
    },
  });
  new Counter({
    name: "sluice_limiter_store_failures_total",
    help: "Requests whose limits were decided by their onStoreFailure mode because the shared store failed or timed out.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(limiter.storeFailures);
    },
  });
  const degraded = new Gauge({
    name: "sluice_limiter_store_degraded",
    help: "1 while the shared limiter store is failing (limits apply their onStoreFailure mode), else 0.",
    registers: [registry],
  });
  const outages = new Histogram({
    name: "sluice_limiter_store_outage_duration_seconds",
    help: "Length of each ended outage of the shared limiter store.",
    buckets: OUTAGE_BUCKETS,
    registers: [registry],
  });
  const storeCalls = new Histogram({
    name: "sluice_limiter_store_duration_seconds",
    help: "Time the shared limiter store took to answer a decision, or to fail it (a timeout at the deadline).",
    buckets: STORE_CALL_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    limiter,
    storeObserver: {
      storeCall: (seconds) => storeCalls.observe(seconds),
      outageBegan: () => degraded.set(1),
      outageEnded: (seconds) => {
        degraded.set(0);
        outages.observe(seconds);
      },
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
