/**
 * The rate-limit service's core, apart from HTTP: a parsed request (decisionRequest.ts) in, an
 * answer out. It resolves each check to the store's LimitCheck (ad-hoc through adHocLimits.ts,
 * named policies through descriptorPolicies.ts), asks the gateway's own RateLimitStore for all of
 * them at once, and turns the verdict into the API's answer. One store, one truth: a limit the
 * service decides and a limit the gateway decides live side by side in one Redis.
 *
 * All-or-nothing is the store's: several checks are admitted only together, and a refused call
 * consumes nothing. A cost of 0 reads the state and changes nothing (in memory and in Redis).
 *
 * Failures. A denial is an answer (200). A policy the config does not define is the caller's
 * mistake (400 naming the field). When the shared store cannot answer in time, each limit's
 * `onStoreFailure` applies: ad-hoc limits fail closed, and a call a closed limit refuses for that
 * reason answers 503 `limiter-unavailable`, so the caller's own failure policy decides; a named
 * policy's open or local mode answers 200 as it decided. A store that throws (it cannot be
 * reached: a reset through the failover store, or a bare Redis store) also answers 503.
 *
 * @example
 * const service = new RatelimitService({ store, policies: compilePolicyBook(config.policies) });
 * const answer = await service.decide(decisionBody.parse({ identifier: "user-42", limit: 10, duration: "1m" }));
 * // → { status: 200, body: { allowed: true, limit: 10, remaining: 9, reset: 1764000060000 } }
 */
import type { InvalidParam } from "../config/invalidParams.js";
import type { RatelimitObserver, RatelimitSubject } from "../observability/observers.js";
import type { Decision, Verdict } from "../limiter/decision.js";
import { bindingDecision, retryAfterSeconds } from "../limiter/headers.js";
import type { LimitCheck } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";
import { adHocCheck } from "./adHocLimits.js";
import type { CheckResult, CheckSpec, DecisionAnswer, DecisionRequest, LimitedResult } from "./decisionRequest.js";
import type { PolicyBook } from "./descriptorPolicies.js";

export interface RatelimitServiceOptions {
  /** The gateway's store, so both count in one place. */
  readonly store: RateLimitStore;
  readonly policies: PolicyBook;
  /** Told when the store throws (it cannot be reached); the call answers 503. */
  readonly onStoreError?: ((error: unknown) => void) | undefined;
  /** Told of every verdict, for /metrics (observability/serviceMetrics.ts). */
  readonly observer?: Pick<RatelimitObserver, "decided"> | undefined;
}

export type ServiceAnswer =
  | { readonly status: 200; readonly body: DecisionAnswer }
  | { readonly status: 204 }
  /** Unknown policies: the fields that name them. */
  | { readonly status: 400; readonly invalidParams: readonly InvalidParam[] }
  /** The store did not answer in time and a limit fails closed. */
  | { readonly status: 503; readonly retryAfter: number };

/** Per check of a request: its index among the store's checks, or -1 when no limit applies. */
interface Plan {
  readonly checks: LimitCheck[];
  readonly slots: number[];
  /** Per store check, its policy or its ad-hoc namespace, for the metrics. */
  readonly subjects: RatelimitSubject[];
}

const UNLIMITED: CheckResult = { allowed: true, unlimited: true };

export class RatelimitService {
  readonly #store: RateLimitStore;
  readonly #onStoreError: (error: unknown) => void;
  readonly #observer: Pick<RatelimitObserver, "decided"> | undefined;
  #policies: PolicyBook;

  constructor(options: RatelimitServiceOptions) {
    this.#store = options.store;
    this.#policies = options.policies;
    this.#onStoreError = options.onStoreError ?? (() => undefined);
    this.#observer = options.observer;
  }

  /** The named policies in force; a config reload swaps them (counters are kept: keys do not hold the numbers). */
  get policies(): PolicyBook {
    return this.#policies;
  }

  set policies(book: PolicyBook) {
    this.#policies = book;
  }

  /** Decides every check of the request at once; synchronous when the store is (the memory store). */
  decide(request: DecisionRequest): ServiceAnswer | Promise<ServiceAnswer> {
    const plan = this.#plan(request);
    if (!("checks" in plan)) return plan;
    if (plan.checks.length === 0) return answer(request, plan, undefined, undefined);
    const verdict = this.#store.consume(plan.checks);
    return verdict instanceof Promise ? verdict.then((v) => this.#answer(request, plan, v), (e: unknown) => this.#storeFailed(e)) : this.#answer(request, plan, verdict);
  }

  /** Forgets every counter the request's checks name (their cost is ignored). */
  async reset(request: DecisionRequest): Promise<ServiceAnswer> {
    const plan = this.#plan(request);
    if (!("checks" in plan)) return plan;
    try {
      await Promise.all(plan.checks.map(async (check) => this.#store.reset(check.key)));
    } catch (error) {
      return this.#storeFailed(error);
    }
    return { status: 204 };
  }

  /** Only a store that cannot be reached throws (a denial is data): the caller's failure policy decides. */
  #storeFailed(error: unknown): ServiceAnswer {
    this.#onStoreError(error);
    return { status: 503, retryAfter: 1 };
  }

  #plan(request: DecisionRequest): Plan | ServiceAnswer {
    const checks: LimitCheck[] = [];
    const slots: number[] = [];
    const subjects: RatelimitSubject[] = [];
    let unknown: InvalidParam[] | undefined;
    request.checks.forEach((spec: CheckSpec, i) => {
      if (spec.kind === "ad-hoc") {
        slots.push(checks.push(adHocCheck(spec)) - 1);
        subjects.push({ namespace: spec.namespace });
        return;
      }
      const limit = this.#policies.resolve(spec.policy, spec.descriptor);
      if (limit === undefined) {
        const known = this.#policies.domains;
        (unknown ??= []).push({ name: request.batch ? `checks.${i}.policy` : "policy", reason: `no policy named "${spec.policy}"; defined: ${known.join(", ") || "none"}` });
      } else if (limit.kind === "limited") {
        slots.push(checks.push({ key: limit.key, policy: limit.policy, cost: spec.cost }) - 1);
        subjects.push({ policy: spec.policy });
      } else {
        slots.push(-1);
      }
    });
    return unknown === undefined ? { checks, slots, subjects } : { status: 400, invalidParams: unknown };
  }

  #answer(request: DecisionRequest, plan: Plan, verdict: Verdict): ServiceAnswer | Promise<ServiceAnswer> {
    this.#observer?.decided("http", plan.subjects, plan.checks, verdict);
    if (!verdict.allowed && verdict.decisions.some((d) => d.reason === "store-unavailable")) return { status: 503, retryAfter: 1 };
    // The over-limit cache answers with only the denials it remembers; several checks then read
    // their state at cost 0 (which the cache never answers), so each gets its own result.
    if (verdict.via === "over-limit-cache" && plan.checks.length > 1) {
      return Promise.resolve(this.#store.consume(plan.checks.map((c) => ({ ...c, cost: 0 })))).then(
        (state) => answer(request, plan, verdict, withCachedDenials(plan.checks, verdict.decisions, state.decisions)),
        (e: unknown) => this.#storeFailed(e),
      );
    }
    return answer(request, plan, verdict, verdict.decisions);
  }
}

function answer(request: DecisionRequest, plan: Plan, verdict: Verdict | undefined, decisions: readonly Decision[] | undefined): ServiceAnswer {
  const checks = request.batch ? plan.slots.map((slot) => (slot < 0 || decisions === undefined ? UNLIMITED : limitedResult(decisions[slot]!))) : undefined;
  const binding = verdict && (bindingDecision(verdict) ?? verdict.decisions[0]);
  let top: DecisionAnswer = UNLIMITED;
  if (binding !== undefined) {
    // An admitted call reports the binding limit's numbers, never a wait (a shadow limit may have refused).
    const { retryAfter: _wait, reason: _reason, ...numbers } = limitedResult(binding);
    top = verdict!.allowed ? { ...numbers, allowed: true } : limitedResult(binding);
  }
  return { status: 200, body: checks === undefined ? top : { ...top, checks } };
}

/**
 * Each check's state, with the cache's denials in place of the reads of the checks they belong
 * to. The cache lists its denials in the checks' order; a denial belongs to the next check of its
 * policy that the read shows cannot take its cost.
 */
function withCachedDenials(checks: readonly LimitCheck[], denials: readonly Decision[], state: readonly Decision[]): Decision[] {
  const merged = [...state];
  let from = 0;
  for (const denial of denials) {
    for (let i = from; i < checks.length; i++) {
      if (checks[i]!.policy !== denial.policy || state[i]!.remaining >= checks[i]!.cost) continue;
      merged[i] = denial;
      from = i + 1;
      break;
    }
  }
  return merged;
}

function limitedResult(decision: Decision): LimitedResult {
  return {
    allowed: decision.allowed,
    limit: decision.limit,
    remaining: decision.remaining,
    // A GCRA or token bucket whose pace is not whole ms (7 a minute) is whole again at a fraction of a ms: rounded up, as the schema's integer.
    reset: Math.ceil(decision.resetAt),
    ...(!decision.allowed && { retryAfter: retryAfterSeconds(decision.retryAfterMs ?? 0) }),
    ...(decision.reason === "cost-exceeds-limit" && { reason: decision.reason }),
  };
}
