/**
 * Active health checks: every `interval`, each target of a service is asked for `path` (after
 * its URL's path); 2xx or 3xx within `timeout` passes. `unhealthyThreshold` failures in a row
 * take a target out of the balancer's choice, `healthyThreshold` passes in a row bring it back.
 * Checks run off the request path, on the target's own pool; the timer never keeps the process
 * alive. `checkAll` runs one round now, for tests and for a first verdict at start-up.
 *
 * @example
 * const checker = new HealthChecker(targets, { path: "/health", intervalMs: 10_000, timeoutMs: 2_000, healthyThreshold: 2, unhealthyThreshold: 3 });
 * checker.start(); // a first round now, then one per interval
 * checker.stop();
 */
import type { UpstreamTarget } from "./target.js";

export interface HealthCheckSettings {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export class HealthChecker {
  /** Per target: consecutive passes (positive) or failures (negative) since the last change of verdict. */
  readonly #streaks: number[];
  readonly #paths: string[];
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;

  constructor(
    private readonly targets: readonly UpstreamTarget[],
    private readonly settings: HealthCheckSettings,
  ) {
    this.#streaks = targets.map(() => 0);
    this.#paths = targets.map((target) => target.url.pathname.replace(/\/+$/, "") + settings.path);
  }

  /** Checks now, for a first verdict, and then every interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.checkAll(), this.settings.intervalMs).unref();
    void this.checkAll();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One probe of every target, verdicts updated; a round still running is joined, not doubled. */
  checkAll(): Promise<void> {
    this.#round ??= Promise.all(this.targets.map((target, i) => this.#check(target, i))).then(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #check(target: UpstreamTarget, index: number): Promise<void> {
    const passed = await this.#probe(target, index);
    const streak = this.#streaks[index]!;
    const next = passed ? Math.max(streak, 0) + 1 : Math.min(streak, 0) - 1;
    this.#streaks[index] = next;
    if (passed && !target.checkedHealthy && next >= this.settings.healthyThreshold) target.checkedHealthy = true;
    if (!passed && target.checkedHealthy && -next >= this.settings.unhealthyThreshold) target.checkedHealthy = false;
  }

  async #probe(target: UpstreamTarget, index: number): Promise<boolean> {
    const { timeoutMs } = this.settings;
    try {
      const { statusCode, body } = await target.pool.request({ path: this.#paths[index]!, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      await body.dump();
      return statusCode >= 200 && statusCode < 400;
    } catch {
      return false;
    }
  }
}
