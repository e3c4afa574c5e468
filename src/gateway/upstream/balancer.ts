/**
 * Chooses the target of each request among a service's targets that are healthy and not
 * ejected: round-robin, or least-in-flight (the fewest requests outstanding, ties broken by
 * rotation so equal targets share the load). A service with one target takes the one-step path.
 * `exclude` keeps a retry off the target that just failed. Undefined: no target can take it.
 *
 * @example
 * const balancer = new Balancer(targets, "least-in-flight");
 * const target = balancer.pick(undefined);
 */
import type { BalanceStrategy } from "../../config/schema.js";
import type { UpstreamTarget } from "./target.js";

export class Balancer {
  #next = 0;
  readonly #leastInFlight: boolean;

  constructor(
    readonly targets: readonly UpstreamTarget[],
    strategy: BalanceStrategy,
  ) {
    this.#leastInFlight = strategy === "least-in-flight";
  }

  pick(exclude: UpstreamTarget | undefined): UpstreamTarget | undefined {
    const { targets } = this;
    const count = targets.length;
    if (count === 1) {
      const only = targets[0]!;
      return only !== exclude && only.admits() ? only : undefined;
    }
    const start = this.#next;
    // A retry (exclude set) leaves the rotation alone, so a dead target is not tried first twice in a row.
    if (exclude === undefined) this.#next = start + 1 === count ? 0 : start + 1;
    if (this.#leastInFlight) return this.#leastBusy(start, exclude);
    for (let i = 0; i < count; i++) {
      const target = targets[(start + i) % count]!;
      if (target !== exclude && target.admits()) {
        if (exclude === undefined) this.#next = (start + i + 1) % count;
        return target;
      }
    }
    return undefined;
  }

  #leastBusy(start: number, exclude: UpstreamTarget | undefined): UpstreamTarget | undefined {
    const { targets } = this;
    let best: UpstreamTarget | undefined;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(start + i) % targets.length]!;
      if (target !== exclude && target.available() && (best === undefined || target.inFlight < best.inFlight)) best = target;
    }
    return best !== undefined && best.admits() ? best : undefined;
  }
}
