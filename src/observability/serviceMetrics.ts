/**
 * The rate-limit service's side of /metrics (POST /v1/ratelimit and Envoy's ShouldRateLimit):
 * decisions by protocol, policy or namespace and outcome, calls by status, their latency, and
 * refused tokens. Counted into plain numbers on the hot path, as the limiter's and gateway's are
 * (metrics.ts reads them at scrape).
 *
 * Cardinality. Named policies come from the config, so each has its series. Ad-hoc limits name
 * a namespace the caller chooses: the first MAX_NAMESPACES namespaces seen get their own series,
 * every later one counts under `(other)`, so a caller inventing namespaces cannot grow /metrics
 * without end. A call refused before its checks were resolved (an unknown policy, a bad body)
 * counts only in the calls by status.
 *
 * @example
 * const metrics = new ServiceMetrics();
 * openRatelimitService({ …, observer: metrics });
 */
import type { Verdict } from "../limiter/decision.js";
import type { LimitCheck } from "../limiter/policy.js";
import { decisionOutcome, type LimiterOutcome } from "./limiterOutcomes.js";
import { RATELIMIT_PROTOCOLS, TOKEN_FAILURES, type RatelimitObserver, type RatelimitProtocol, type RatelimitSubject, type TokenFailure } from "./observers.js";

/** Most ad-hoc namespaces with series of their own; later ones count under OTHER_NAMESPACE. */
export const MAX_NAMESPACES = 100;
export const OTHER_NAMESPACE = "(other)";

/** Buckets of a whole call, in seconds: a decision in memory takes microseconds, one in Redis about a round trip. */
export const SERVICE_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

/** One histogram's counts in plain numbers: `buckets[i]` holds the observations in bucket i alone (the last: past every bound). */
export class LatencyCounts {
  readonly buckets = new Float64Array(SERVICE_LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < SERVICE_LATENCY_BUCKETS.length && seconds > SERVICE_LATENCY_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** The labels of one decision series. */
export interface DecisionSeries {
  readonly protocol: RatelimitProtocol;
  readonly policy: string;
  readonly namespace: string;
  readonly outcome: LimiterOutcome;
  count: number;
}

export class ServiceMetrics implements RatelimitObserver {
  readonly #decisions = new Map<string, DecisionSeries>();
  readonly #namespaces = new Set<string>();
  /** Calls by protocol and status. */
  readonly calls = new Map<string, { readonly protocol: RatelimitProtocol; readonly status: string; count: number }>();
  readonly latency = new Map<RatelimitProtocol, LatencyCounts>(RATELIMIT_PROTOCOLS.map((p) => [p, new LatencyCounts()]));
  readonly tokenFailures = new Map<string, { readonly protocol: RatelimitProtocol; readonly reason: TokenFailure; count: number }>();

  /** Named policies known up front show at zero, allowed and limited, before their first call. */
  constructor(policies: Iterable<string> = []) {
    for (const policy of policies) {
      for (const protocol of RATELIMIT_PROTOCOLS) {
        for (const outcome of ["allowed", "limited"] as const) this.#series(protocol, policy, "", outcome);
      }
    }
    for (const protocol of RATELIMIT_PROTOCOLS) {
      for (const reason of TOKEN_FAILURES) this.tokenFailures.set(`${protocol} ${reason}`, { protocol, reason, count: 0 });
    }
  }

  decided(protocol: RatelimitProtocol, subjects: readonly RatelimitSubject[], checks: readonly LimitCheck[], verdict: Verdict): void {
    const failed = verdict.via === "store-failure";
    if (verdict.via !== "over-limit-cache") {
      verdict.decisions.forEach((decision, i) => this.#count(protocol, subjects[i], decisionOutcome(decision, failed)));
      return;
    }
    // The over-limit cache names only the denials it remembers: each is its policy's first check not yet counted.
    const counted = new Set<number>();
    for (const denial of verdict.decisions) {
      const i = checks.findIndex((check, j) => check.policy === denial.policy && !counted.has(j));
      if (i < 0) continue;
      counted.add(i);
      this.#count(protocol, subjects[i], "limited");
    }
  }

  answered(protocol: RatelimitProtocol, status: string, seconds: number): void {
    const key = `${protocol} ${status}`;
    const series = this.calls.get(key);
    if (series === undefined) this.calls.set(key, { protocol, status, count: 1 });
    else series.count++;
    this.latency.get(protocol)!.observe(seconds);
  }

  tokenRefused(protocol: RatelimitProtocol, reason: TokenFailure): void {
    this.tokenFailures.get(`${protocol} ${reason}`)!.count++;
  }

  decisions(): IterableIterator<DecisionSeries> {
    return this.#decisions.values();
  }

  #count(protocol: RatelimitProtocol, subject: RatelimitSubject | undefined, outcome: LimiterOutcome): void {
    if (subject === undefined) return;
    const series = "policy" in subject ? this.#series(protocol, subject.policy, "", outcome) : this.#series(protocol, "", this.#namespace(subject.namespace), outcome);
    series.count++;
  }

  #namespace(namespace: string): string {
    if (this.#namespaces.has(namespace)) return namespace;
    if (this.#namespaces.size >= MAX_NAMESPACES) return OTHER_NAMESPACE;
    this.#namespaces.add(namespace);
    return namespace;
  }

  #series(protocol: RatelimitProtocol, policy: string, namespace: string, outcome: LimiterOutcome): DecisionSeries {
    const key = `${protocol} ${policy} ${namespace} ${outcome}`;
    let series = this.#decisions.get(key);
    if (series === undefined) this.#decisions.set(key, (series = { protocol, policy, namespace, outcome, count: 0 }));
    return series;
  }
}
