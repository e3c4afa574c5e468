/**
 * The limits of every plan, compiled for the limit stage like the config's limits, and kept in
 * step with the database: loaded at start, and reloaded whole whenever any instance changes a
 * plan (NOTIFY on PLANS_CHANNEL, or a reconnect that may have missed one), so a plan change
 * applies to the next request on every instance. A consumer's plan limits are checked together
 * with its route's, all or nothing.
 */
import type { Logger } from "pino";
import { planLimitConfigs, PLANS_CHANNEL, type Plan } from "./plans.js";
import type { Database } from "../db/database.js";
import { rateLimitPolicyHeader } from "../limiter/headers.js";
import { compileLimitKey } from "../limits/limitKeys.js";
import { compilePolicy, type CompiledLimit } from "../limits/compilePolicy.js";

export interface CompiledPlan {
  readonly limits: readonly CompiledLimit[];
  /** The plan's part of `RateLimit-Policy`. */
  readonly policyHeader: string;
}

export interface PlanLimits {
  /** The plan's compiled limits; undefined for no plan, an unknown plan, or a plan without limits. */
  forPlan(name: string | undefined): CompiledPlan | undefined;
  close(): Promise<void>;
}

export interface PlanSource {
  list(): Promise<readonly Plan[]>;
}

export async function planLimits(plans: PlanSource, db: Pick<Database, "listen">, options: { readonly ipv6Prefix: number; readonly logger: Logger }): Promise<PlanLimits> {
  let compiled = new Map<string, CompiledPlan>();
  const reload = async () => {
    compiled = compilePlans(await plans.list(), options.ipv6Prefix);
  };
  // Listen before the first load, so a change made in between is not missed.
  const stop = await db.listen(PLANS_CHANNEL, () => {
    reload().catch((error: unknown) => options.logger.error({ err: error }, "could not reload the plans; the previous limits stay"));
  });
  await reload();
  return {
    forPlan: (name) => (name === undefined ? undefined : compiled.get(name)),
    close: stop,
  };
}

export function compilePlans(plans: readonly Plan[], ipv6Prefix: number): Map<string, CompiledPlan> {
  const compiled = new Map<string, CompiledPlan>();
  for (const plan of plans) {
    const limits = Object.entries(planLimitConfigs(plan)).map(([name, limit]): CompiledLimit => ({
      policy: compilePolicy(name, limit),
      // Counters of plan limits live apart from the config's limits of the same name.
      key: compileLimitKey(`plan:${plan.name}:${name}`, limit.by, ipv6Prefix),
    }));
    if (limits.length > 0) compiled.set(plan.name, { limits, policyHeader: rateLimitPolicyHeader(limits.map((l) => l.policy)) });
  }
  return compiled;
}
