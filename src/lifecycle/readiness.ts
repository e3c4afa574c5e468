/**
 * Whether this instance should get traffic: not while it shuts down, so a load balancer drains it
 * before its listener closes; not while a service has no target that may take requests; not while
 * the accounts database is unreachable, since keys kept there cannot be checked; and not while the
 * limiter store is unreachable *and* a limit is set to fail closed, since its requests would be
 * refused with 503 anyway. Limits that fail open or local keep serving through a Redis outage by
 * the operator's choice, so the store's outage alone does not take the instance out: with a
 * shared Redis, every instance would go at once.
 *
 * A service's state is read, never probed: a target may take requests while its active health
 * check passes (upstream/healthCheck.ts, when configured) and its circuit breaker does not eject it
 * (upstream/circuitBreaker.ts), so a readiness check sends nothing to any upstream, however often a
 * load balancer asks. The store is asked for a decision that costs nothing (a peek), through the
 * failover store, so the check sees exactly what requests see: unreachable while its breaker is
 * open. The breaker probes Redis by itself, so an outage ends while no traffic arrives (a load
 * balancer sends none to an instance that is not ready).
 *
 * @example
 * const readiness = new Readiness({ store, database: accounts.db, services: () => table.values(), failsClosed: () => ["strict"] });
 * const { ready, reasons } = await readiness.check();
 */
import type { Queryable } from "../db/database.js";
import type { CompiledService } from "../gateway/routeTable.js";
import type { LimitCheck, Policy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";

export type Reachability = "reachable" | "unreachable";

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: "ready" | "not ready" | "shutting down";
  /** Why not, one sentence each; empty when ready. */
  readonly reasons: readonly string[];
  /** Each service: reachable while one of its targets may take requests. Not read while shutting down. */
  readonly services: Readonly<Record<string, Reachability>> | undefined;
  /** Not probed while shutting down. */
  readonly limiterStore: Reachability | undefined;
  /** None without accounts; not probed while shutting down. */
  readonly database: Reachability | undefined;
}

export interface ReadinessOptions {
  readonly store: RateLimitStore;
  /** The accounts database; none without accounts. */
  readonly database?: Queryable | undefined;
  /** The services serving now (the live route table's): their targets' health, as the balancer sees it. */
  readonly services?: (() => Iterable<CompiledService>) | undefined;
  /** Names of the enforced limits that refuse requests while the store is unreachable (onStoreFailure: closed). */
  readonly failsClosed: () => readonly string[];
  /** Longest wait for the database's answer. */
  readonly timeoutMs?: number;
}

const PROBE_POLICY: Policy = { name: "sluice-readiness", algorithm: "fixed-window", limit: 1, windowMs: 1_000, onStoreFailure: "open" };
const PROBE: readonly LimitCheck[] = [{ key: "sluice-readiness", policy: PROBE_POLICY, cost: 0 }];

const SHUTTING_DOWN: ReadinessReport = Object.freeze({
  ready: false,
  status: "shutting down",
  reasons: Object.freeze(["the instance is shutting down"]),
  services: undefined,
  limiterStore: undefined,
  database: undefined,
});

export class Readiness {
  #shuttingDown = false;
  readonly #options: ReadinessOptions;

  constructor(options: ReadinessOptions) {
    this.#options = options;
  }

  /** From now on the instance is not ready: it is about to stop accepting connections. */
  shutDown(): void {
    this.#shuttingDown = true;
  }

  async check(): Promise<ReadinessReport> {
    // Draining: answer at once, without waiting on probes, so a load balancer learns it quickly.
    if (this.#shuttingDown) return SHUTTING_DOWN;
    const services = this.#services();
    const [limiterStore, database] = await Promise.all([this.#probeStore(), this.#probeDatabase()]);
    const reasons: string[] = [];
    for (const [name, reachability] of Object.entries(services)) {
      if (reachability === "unreachable") reasons.push(`service "${name}" is unreachable: every target failed its health check or was ejected`);
    }
    if (database === "unreachable") reasons.push("the accounts database is unreachable: API keys kept in it cannot be checked");
    if (limiterStore === "unreachable") {
      const closed = this.#options.failsClosed();
      if (closed.length > 0) reasons.push(`the limiter store is unreachable and ${closed.map((n) => `"${n}"`).join(", ")} ${closed.length === 1 ? "fails" : "fail"} closed (onStoreFailure: closed)`);
    }
    const ready = reasons.length === 0;
    return { ready, status: ready ? "ready" : "not ready", reasons, services, limiterStore, database };
  }

  /** Each service's state as the balancer sees it; nothing is sent to an upstream. */
  #services(): Record<string, Reachability> {
    const services = this.#options.services?.() ?? [];
    return Object.fromEntries([...services].map((service) => [service.name, service.targets.some((target) => target.available()) ? "reachable" : "unreachable"]));
  }

  async #probeStore(): Promise<Reachability> {
    try {
      const verdict = await this.#options.store.consume(PROBE);
      return verdict.via === "store-failure" ? "unreachable" : "reachable";
    } catch {
      return "unreachable";
    }
  }

  async #probeDatabase(): Promise<Reachability | undefined> {
    const { database } = this.#options;
    if (database === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), this.#options.timeoutMs ?? 1_000)));
    try {
      await Promise.race([database.query("select 1"), deadline]);
      return "reachable";
    } catch {
      return "unreachable";
    } finally {
      clearTimeout(timer);
    }
  }
}
