/**
 * The live state of the limits that apply to one caller — an API key's consumer, a signed-in
 * user, or a client address — read from the limiter store without spending anything: every
 * counter is checked at cost 0, which each store answers as a peek (it changes and writes
 * nothing). For the usage page (a user's own keys) and the admin limit inspector, which can also
 * reset a counter.
 *
 * Which counters: each route of each service (the key's scopes only) with its limits, plus the
 * caller's plan limits, with each limit's counter key built by the gateway's own key builders
 * (limits/limitKeys.ts) from the caller as a limit subject. A limit whose key depends on more than the caller (for
 * a consumer: the client address, a header or a path parameter; for an address: the consumer)
 * has no one counter to show and is left out. An address also shows its sign-in and sign-up
 * throttles (loginThrottle.ts, signupThrottle.ts), so an admin can see and lift a lock-out. Counters shared by several routes
 * (a default limit counted by consumer) appear once, naming every service that shares them.
 *
 * @example
 * const limits = limitState({ store, table, plans, ipv6Prefix: 64 });
 * await limits.ofConsumer({ id: "user:…", plan: "free" }); // → [{ counter, name, remaining, resetAt, … }]
 */
import type { Consumer } from "../accounts/consumer.js";
import { LOGIN_FAILURES_PER_IP, loginThrottleKeys } from "../accounts/loginThrottle.js";
import { SIGNUPS_PER_IP, signupThrottleKey } from "../accounts/signupThrottle.js";
import { addressKey } from "../limits/addressKey.js";
import type { PlanLimits } from "../accounts/planLimits.js";
import type { CompiledRoute, CompiledService, RouteTable } from "../gateway/routeTable.js";
import type { CompiledLimit } from "../limits/compilePolicy.js";
import type { LimitSubject } from "../limits/limitKeys.js";
import type { LimitCheck, Policy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";

/** One counter as it stands. */
export interface LimitState {
  /** The store key: what a reset clears. */
  readonly counter: string;
  readonly name: string;
  readonly algorithm: Policy["algorithm"];
  readonly limit: number;
  readonly windowSeconds: number;
  /** Where it comes from: the gateway's config, the caller's plan, or the sign-in or sign-up throttle. */
  readonly source: "config" | "plan" | "sign-in" | "sign-up";
  /** Services whose requests count against it (empty for the throttles). */
  readonly services: string[];
  readonly remaining: number;
  /** When it is whole again if nothing more arrives (ISO time). */
  readonly resetAt: string;
}

export interface LimitStateDeps {
  readonly store: RateLimitStore;
  readonly table: RouteTable;
  readonly plans?: PlanLimits | undefined;
  /** server.ipv6Prefix: addresses are counted as the gateway counts them. */
  readonly ipv6Prefix: number;
}

export interface LimitStateReader {
  /** The counters of a consumer (a key's or a session's), for the services it may call. */
  ofConsumer(consumer: Consumer): Promise<LimitState[]>;
  /** The counters of a client address: limits counted by address alone, and the sign-in and sign-up throttles. */
  ofAddress(ip: string): Promise<LimitState[]>;
}

interface Candidate {
  readonly check: LimitCheck;
  readonly source: LimitState["source"];
  readonly services: string[];
}

const PROBE = "probe";
/** Headers or path parameters that answer every name with PROBE: a key that reads them changes. */
const everyName = new Proxy({}, { get: (_target, name) => (typeof name === "string" ? PROBE : undefined) }) as Record<string, string>;

/** What a request of `consumer` from `clientIp` on `route` says to a limit key; with `vary`, every header and parameter reads PROBE. */
function subjectOf(consumer: Consumer | undefined, clientIp: string, service: CompiledService, route: CompiledRoute, vary: boolean): LimitSubject {
  return { consumer, clientIp, service, route, params: vary ? everyName : {}, req: { headers: vary ? everyName : {} } };
}

export function limitState(deps: LimitStateDeps): LimitStateReader {
  const { store, table, plans, ipv6Prefix } = deps;

  /**
   * The counters `subject` has on every route: a limit is kept when its key is the same for two
   * requests that differ in everything but the subject.
   */
  const candidates = (subject: { consumer?: Consumer; ip?: string }, allowed: (service: string) => boolean): Map<string, Candidate> => {
    const found = new Map<string, Candidate>();
    const plan = subject.consumer === undefined ? undefined : plans?.forPlan(subject.consumer.plan);
    for (const service of table.values()) {
      if (!allowed(service.name)) continue;
      for (const route of service.routes) {
        const limits: [CompiledLimit, Candidate["source"]][] = [
          ...route.limits.map((l): [CompiledLimit, Candidate["source"]] => [l, "config"]),
          ...(plan?.limits ?? []).map((l): [CompiledLimit, Candidate["source"]] => [l, "plan"]),
        ];
        for (const [limit, source] of limits) {
          const one = limit.key(subjectOf(subject.consumer ?? { id: "probe-a" }, subject.ip ?? "192.0.2.1", service, route, false));
          const other = limit.key(subjectOf(subject.consumer ?? { id: "probe-b" }, subject.ip ?? "192.0.2.2", service, route, true));
          if (one !== other) continue;
          const known = found.get(one);
          if (known === undefined) found.set(one, { check: { key: one, policy: limit.policy, cost: 0 }, source, services: [service.name] });
          else if (!known.services.includes(service.name)) known.services.push(service.name);
        }
      }
    }
    return found;
  };

  const peek = async (candidates: readonly Candidate[]): Promise<LimitState[]> => {
    if (candidates.length === 0) return [];
    const verdict = await store.consume(candidates.map((c) => c.check));
    return candidates.map((candidate, i): LimitState => {
      const decision = verdict.decisions[i];
      const { policy } = candidate.check;
      return {
        counter: candidate.check.key,
        name: policy.name,
        algorithm: policy.algorithm,
        limit: policy.limit,
        windowSeconds: policy.windowMs / 1000,
        source: candidate.source,
        services: candidate.services,
        remaining: decision?.remaining ?? policy.limit,
        resetAt: new Date(decision?.resetAt ?? verdict.now).toISOString(),
      };
    });
  };

  return {
    ofConsumer(consumer) {
      const scopes = consumer.scopes === undefined ? undefined : new Set(consumer.scopes);
      return peek([...candidates({ consumer }, (service) => scopes === undefined || scopes.has(service)).values()]);
    },
    ofAddress(ip) {
      const found = [...candidates({ ip }, () => true).values()];
      const address = addressKey(ip, ipv6Prefix);
      found.push({ check: { key: loginThrottleKeys("", address).ip, policy: LOGIN_FAILURES_PER_IP, cost: 0 }, source: "sign-in", services: [] });
      found.push({ check: { key: signupThrottleKey(address), policy: SIGNUPS_PER_IP, cost: 0 }, source: "sign-up", services: [] });
      return peek(found);
    },
  };
}
