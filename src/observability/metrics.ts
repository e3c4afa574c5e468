/**
 * Prometheus metrics of one Sluice instance: a registry of its own (never prom-client's global
 * one, so several gateways in one process keep apart), the default process metrics, the
 * gateway's requests, the limiter's series, the rate-limit service's calls (serviceMetrics.ts),
 * the API-key cache and the upstream targets' health.
 * The control plane serves them at `GET /metrics`; docs/operations.md lists every series.
 *
 * Hot path: the limit stage counts into plain numbers held per limit name (`LimitCounts`), the
 * gateway observer into plain numbers per route (gatewayMetrics.ts), and prom-client reads them
 * only when scraped, so a request pays a Map lookup and a few increments, with no label hashing
 * or string building. The failover store reports through the `StoreObserver` it declares, so the
 * stores never import prom-client; the API-key cache and the upstream health are read at scrape.
 *
 * @example
 * const metrics = createMetrics({ limits: ["per-client"], apiKeyCache: keyVerifier.cacheLookups });
 * limit({ store, logger, metrics: metrics.limiter });
 * createGatewayHandler({ …, exchangeEnded: gatewayObserver({ metrics: metrics.gateway, logger, accessLog: true }) });
 * new FailoverStore({ primary, fallback, timeoutMs: 50, logger, observer: metrics.storeObserver });
 * reply.type(metrics.contentType).send(await metrics.render());
 */
import cluster from "node:cluster";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from "prom-client";
import type { Verdict } from "../limiter/decision.js";
import { decisionOutcome, LIMITER_OUTCOMES, type LimiterOutcome } from "./limiterOutcomes.js";
import { SHED_PLANES, type ShedPlane, type StoreObserver, type UpstreamHealth } from "./observers.js";
import { clusterMetricsRenderer } from "./clusterMetrics.js";

// Where they were declared first; the gateway observer imports them from here.
export { decisionOutcome, LIMITER_OUTCOMES, type LimiterOutcome };
import { GatewayMetrics, LATENCY_BUCKETS, STATUS_CLASSES, UNMATCHED } from "./gatewayMetrics.js";
import { SERVICE_LATENCY_BUCKETS, ServiceMetrics } from "./serviceMetrics.js";

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
      switch (decisionOutcome(decision, failed)) {
        case "allowed": counts.allowed++; break;
        case "limited": counts.limited++; break;
        case "shadow_limited": counts.shadowLimited++; break;
        case "store_failure_open": counts.storeFailureOpen++; break;
        case "store_failure_closed": counts.storeFailureClosed++; break;
        case "store_failure_local": counts.storeFailureLocal++; break;
      }
      if (cached) counts.overLimitCacheHits++;
    }
  }

  entries(): IterableIterator<[string, LimitCounts]> {
    return this.#byLimit.entries();
  }
}

/** Lookups of a cache, read at scrape: `hits` answered from memory, `misses` asked the database. */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

export interface MetricsOptions {
  /** Names of the configured limits, shown at zero from the start. */
  readonly limits?: Iterable<string>;
  /** Names of the configured named policies of the rate-limit service, shown at zero from the start. */
  readonly policies?: Iterable<string>;
  /** The database API keys' cache (accounts); no cache series when undefined. */
  readonly apiKeyCache?: CacheCounts | undefined;
  /** The upstream targets' health, read at scrape (gateway/upstream/upstreamHealth.ts); no series when undefined. */
  readonly upstreamHealth?: (() => Iterable<UpstreamHealth>) | undefined;
  /** Also export prom-client's process and Node.js metrics (default true). */
  readonly processMetrics?: boolean;
  /** Decisions waiting for the shared limiter store, read at scrape; 0 when undefined. */
  readonly pendingDecisions?: (() => number) | undefined;
}

export interface SluiceMetrics {
  readonly registry: Registry;
  readonly limiter: LimiterMetrics;
  /** The gateway's requests by (service, route), counted by the gateway observer. */
  readonly gateway: GatewayMetrics;
  /** The rate-limit service's calls and decisions (HTTP and gRPC): pass it as the service's observer. */
  readonly ratelimit: ServiceMetrics;
  /** Pass to the failover store; a memory store never calls it. */
  readonly storeObserver: StoreObserver;
  /** Counts a request the load shedder refused, by plane (gateway, service, grpc). */
  shed(plane: ShedPlane): void;
  /** The Prometheus text format's media type, for the response to a scrape. */
  readonly contentType: string;
  /** Every series in the Prometheus text format (in a cluster worker: every worker's, aggregated). */
  render(): Promise<string>;
}

export function createMetrics({ limits = [], policies = [], apiKeyCache, upstreamHealth, processMetrics = true, pendingDecisions }: MetricsOptions = {}): SluiceMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const limiter = new LimiterMetrics(limits);
  const gateway = new GatewayMetrics();
  registerGatewayMetrics(registry, gateway, upstreamHealth ?? (() => []));
  const ratelimit = new ServiceMetrics(policies);
  registerServiceMetrics(registry, ratelimit);
  if (apiKeyCache !== undefined) {
    new Counter({
      name: "sluice_api_key_cache_lookups_total",
      help: "API keys of the accounts database looked up in the in-memory cache, by result: hit (answered from memory, a refusal too) or miss (asked the database).",
      labelNames: ["result"] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: "hit" }, apiKeyCache.hits);
        this.inc({ result: "miss" }, apiKeyCache.misses);
      },
    });
  }

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
    aggregator: "max",
  });
  const outages = new Histogram({
    name: "sluice_limiter_store_outage_duration_seconds",
    help: "Length of each ended outage of the shared limiter store.",
    buckets: OUTAGE_BUCKETS,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: "sluice_limiter_store_errors_total",
    help: "Decisions the shared limiter store did not answer: its deadline passed (timeout) or it refused the call (error).",
    labelNames: ["kind"],
    registers: [registry],
  });
  const lateReplies = new Counter({
    name: "sluice_limiter_store_late_replies_total",
    help: "Replies that came after their decision's deadline, by what they settled: refunded (a charge its refused caller never had), kept (the caller was admitted: the charge stands), over_admitted (the store refused what a failure mode admitted), none.",
    labelNames: ["effect"],
    registers: [registry],
  });
  new Gauge({
    name: "sluice_limiter_store_pending",
    help: "Decisions asked of the shared limiter store and not yet answered: the queued work server.overload.maxPendingDecisions bounds.",
    registers: [registry],
    aggregator: "sum",
    collect() {
      this.set(pendingDecisions?.() ?? 0);
    },
  });
  const shed = new Counter({
    name: "sluice_overload_shed_total",
    help: "Requests refused with 503 before any counting because the process could not keep up (server.overload), by plane.",
    labelNames: ["plane"],
    registers: [registry],
  });
  // Every label value from the start, so a rate over them is defined before the first event.
  for (const kind of ["timeout", "error"]) storeErrors.inc({ kind }, 0);
  for (const effect of ["refunded", "kept", "over_admitted", "none"]) lateReplies.inc({ effect }, 0);
  for (const plane of SHED_PLANES) shed.inc({ plane }, 0);
  const storeCalls = new Histogram({
    name: "sluice_limiter_store_duration_seconds",
    help: "Time the shared limiter store took to answer a decision, or to fail it (a timeout at the deadline).",
    buckets: STORE_CALL_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    limiter,
    gateway,
    ratelimit,
    storeObserver: {
      storeCall: (seconds) => storeCalls.observe(seconds),
      storeFailure: (kind) => storeErrors.inc({ kind }),
      lateReply: (effect) => lateReplies.inc({ effect: effect.replace("-", "_") }),
      outageBegan: () => degraded.set(1),
      outageEnded: (seconds) => {
        degraded.set(0);
        outages.observe(seconds);
      },
    },
    shed: (plane) => shed.inc({ plane }),
    contentType: registry.contentType,
    // A worker of `sluice start --workers N` answers for all of them (clusterMetrics.ts).
    render: cluster.isWorker ? clusterMetricsRenderer(registry) : () => registry.metrics(),
  };
}

/** The gateway's series: read from the plain counts of GatewayMetrics at each scrape. */
function registerGatewayMetrics(registry: Registry, gateway: GatewayMetrics, upstreamHealth: () => Iterable<UpstreamHealth>): void {
  new Counter({
    name: "sluice_gateway_requests_total",
    help: "Gateway requests (/api/*) by service, route id and status class (aborted: the client left before a status was sent).",
    labelNames: ["service", "route", "status"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const series of gateway.values()) {
        STATUS_CLASSES.forEach((status, i) => this.inc({ service: series.service, route: series.route, status }, series.statuses[i]));
      }
    },
  });
  new Counter({
    name: "sluice_gateway_problems_total",
    help: "Problems the gateway answered itself (refusals, failures, unreachable upstreams), by service, status and code.",
    labelNames: ["service", "status", "code"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const series of gateway.values()) {
        for (const [kind, count] of series.problems) this.inc({ service: series.service, status: String(kind.status), code: kind.code }, count);
      }
    },
  });
  registerCountedHistogram(registry, "sluice_gateway_request_duration_seconds", "Whole gateway requests, from arrival to the response's end (or the client leaving), by service and route id.", LATENCY_BUCKETS, function* () {
    for (const series of gateway.values()) yield [{ service: series.service, route: series.route }, series.duration];
  });
  registerCountedHistogram(registry, "sluice_gateway_upstream_duration_seconds", "Upstream time to response headers, from sending the request, by service and route id.", LATENCY_BUCKETS, function* () {
    for (const series of gateway.values()) if (series.route !== UNMATCHED) yield [{ service: series.service, route: series.route }, series.upstream];
  });
  new Gauge({
    name: "sluice_upstream_healthy",
    help: "1 while an upstream target is healthy (its health check passes, its circuit breaker is closed), else 0, by service and target.",
    labelNames: ["service", "target"] as const,
    registers: [registry],
    aggregator: "min",
    collect() {
      this.reset();
      for (const { service, target, healthy } of upstreamHealth()) this.set({ service, target }, healthy);
    },
  });
}

/** The rate-limit service's series: read from the plain counts of ServiceMetrics at each scrape. */
function registerServiceMetrics(registry: Registry, service: ServiceMetrics): void {
  new Counter({
    name: "sluice_ratelimit_decisions_total",
    help: "Checks of the rate-limit service the store decided, by protocol (http, grpc), named policy or ad-hoc namespace, and outcome.",
    labelNames: ["protocol", "policy", "namespace", "outcome"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { protocol, policy, namespace, outcome, count } of service.decisions()) this.inc({ protocol, policy, namespace, outcome }, count);
    },
  });
  new Counter({
    name: "sluice_ratelimit_requests_total",
    help: "Calls of the rate-limit service by protocol and the status answered (HTTP status, or gRPC code name).",
    labelNames: ["protocol", "status"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { protocol, status, count } of service.calls.values()) this.inc({ protocol, status }, count);
    },
  });
  new Counter({
    name: "sluice_ratelimit_token_failures_total",
    help: "Calls of the rate-limit service refused for their token, by protocol and reason: missing, unknown, no_right, out_of_scope.",
    labelNames: ["protocol", "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { protocol, reason, count } of service.tokenFailures.values()) this.inc({ protocol, reason }, count);
    },
  });
  registerCountedHistogram(registry, "sluice_ratelimit_request_duration_seconds", "Calls of the rate-limit service, from arrival to the answer, by protocol.", SERVICE_LATENCY_BUCKETS, function* () {
    for (const [protocol, counts] of service.latency) yield [{ protocol }, counts];
  });
}

/** A histogram's counts in plain numbers: per bucket (each bucket alone, the last past every bound), their sum and count. */
interface CountedHistogram {
  readonly buckets: Float64Array;
  readonly sum: number;
  readonly count: number;
}

/**
 * Registers a histogram whose counts live in plain arrays (HistogramCounts, LatencyCounts):
 * prom-client formats what `read` yields at scrape, in its histogram layout (cumulative
 * `_bucket`s, `_sum`, `_count`).
 */
function registerCountedHistogram(registry: Registry, name: string, help: string, bounds: readonly number[], read: () => Iterable<[Record<string, string>, CountedHistogram]>): void {
  const get = () => {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [labels, counts] of read()) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += counts.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: counts.count });
      values.push({ metricName: `${name}_sum`, labels, value: counts.sum });
      values.push({ metricName: `${name}_count`, labels, value: counts.count });
    }
    return { name, help, type: "histogram", aggregator: "sum", values };
  };
  // The registry needs only a name and get() (awaited); prom-client's types admit its own four classes.
  registry.registerMetric({ name, help, type: "histogram", aggregator: "sum", get } as unknown as Metric);
}
