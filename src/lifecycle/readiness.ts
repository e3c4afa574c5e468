/**
 * Whether this instance should get traffic, beyond its upstreams (the control plane probes those):
 * not while it shuts down, so a load balancer drains it before its listener closes; not while the
 * accounts database is unreachable, since keys kept there cannot be checked; and not while the
 * limiter store is unreachable *and* a limit is set to fail closed, since its requests would be
 * refused with 503 anyway. Limits that fail open or local keep serving through a Redis outage by
 * the operator's choice, so the store's outage alone does not take the instance out: with a
 * shared Redis, every instance would go at once.
 *
 * The store is asked for a decision that costs nothing (a peek), through the failover store, so
 * the probe sees exactly what requests see: unreachable while its breaker is open. The breaker
 * probes Redis by itself, so an outage ends while no traffic arrives (a load balancer sends none
 * to an instance that is not ready).
 *
 * @example
 * const readiness = new Readiness({ store, database: accounts.db, failsClosed: () => ["strict"] });
 * const { ready, reasons } = await readiness.check();
 */
import type { Queryable } from "../db/database.js";
import type { LimitCheck, Policy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";

export type Reachability = "reachable" | "unreachable";

export interface ReadinessReport {
  readonly ready: boolean;
  /** Why not, one sentence each; empty when ready. */
  readonly reasons: readonly string[];
  readonly limiterStore: Reachability;
  readonly database: Reachability | undefined;
}

export interface ReadinessOptions {
  readonly store: RateLimitStore;
  /** The accounts database; none without accounts. */
  readonly database?: Queryable | undefined;
  /** Names of the enforced limits that refuse requests while the store is unreachable (onStoreFailure: closed). */
  readonly failsClosed: () => readonly string[];
  /** Longest wait for the database's answer. */
  readonly timeoutMs?: number;
}

const PROBE_POLICY: Policy = { name: "sluice-readiness", algorithm: "fixed-window", limit: 1, windowMs: 1_000, onStoreFailure: "open" };
const PROBE: readonly LimitCheck[] = [{ key: "sluice-readiness", policy: PROBE_POLICY, cost: 0 }];

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

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async check(): Promise<ReadinessReport> {
    const [limiterStore, database] = await Promise.all([this.#probeStore(), this.#probeDatabase()]);
    const reasons: string[] = [];
    if (database === "unreachable") reasons.push("the accounts database is unreachable: API keys kept in it cannot be checked");
    if (limiterStore === "unreachable") {
      const closed = this.#options.failsClosed();
      if (closed.length > 0) reasons.push(`the limiter store is unreachable and ${closed.map((n) => `"${n}"`).join(", ")} ${closed.length === 1 ? "fails" : "fail"} closed (onStoreFailure: closed)`);
    }
    return { ready: reasons.length === 0, reasons, limiterStore, database };
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
