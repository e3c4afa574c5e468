/**
 * The body of the rate-limit API (`POST /v1/ratelimit` and `/v1/ratelimit/reset`) and its answer,
 * as zod schemas: one schema validates the body at the edge (a 400 naming every bad field) and
 * describes it in the OpenAPI document; the answer's schema types the TypeScript client.
 *
 * A body is one check, or `{ "checks": [ … ] }` for several decided all-or-nothing. A check is
 * either ad-hoc (`identifier`, `limit`, `duration`, optional `algorithm` and `namespace`; a GCRA
 * may state its `burst`, a token bucket its `capacity`, which defaults to `limit`) or names
 * a policy from the config (`policy`, with an `identifier` and/or `descriptor` entries). `cost`
 * (default 1) is the units to take; 0 reads the limit's state without consuming.
 *
 * @example
 * decisionBody.parse({ identifier: "user-42", limit: 100, duration: "60s" });
 * // → { checks: [{ kind: "ad-hoc", namespace: "default", identifier: "user-42", algorithm: "gcra", limit: 100, windowMs: 60000, cost: 1 }], batch: false }
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "../config/duration.js";
import { nameSchema } from "../config/schema.js";
import { AD_HOC_ALGORITHMS, AD_HOC_BOUNDS, DEFAULT_NAMESPACE, type AdHocLimit } from "./adHocLimits.js";
import type { DescriptorEntry } from "./descriptorPolicies.js";
import { isWellFormed, NOT_WELL_FORMED } from "../config/wellFormedText.js";

/** Most checks in one call. */
export const MAX_CHECKS = 20;
/** Most entries in one descriptor. */
export const MAX_DESCRIPTOR_ENTRIES = 8;
/** The descriptor key the `identifier` of a policy check stands for. */
export const IDENTIFIER_KEY = "identifier";

/** An ad-hoc check, resolved: what the store is asked. */
export interface AdHocCheckSpec extends AdHocLimit {
  readonly kind: "ad-hoc";
}

/** A named policy's check: `identifier` has become the descriptor's last entry. */
export interface PolicyCheckSpec {
  readonly kind: "policy";
  readonly policy: string;
  readonly descriptor: readonly DescriptorEntry[];
  readonly cost: number;
}

export type CheckSpec = AdHocCheckSpec | PolicyCheckSpec;

export interface DecisionRequest {
  readonly checks: readonly CheckSpec[];
  /** Sent as `{ checks: [...] }`: the answer lists each check's result. */
  readonly batch: boolean;
}

const DURATION_ERROR = 'a duration with a unit, e.g. "500ms", "30s", "1m", "2h", "1d", or a positive whole number of milliseconds';
const duration = z.union([
  z.string().regex(DURATION_PATTERN).transform(parseDuration),
  z.number().int().positive(),
], { error: DURATION_ERROR }).pipe(z.number().max(AD_HOC_BOUNDS.maxWindowMs, { error: "at most a year (366d)" }))
  .describe('The window: a duration with a unit ("60s", "1h", "1d") or milliseconds.');

/** Text that becomes part of a counter key: `min` to `max` characters of well-formed Unicode. */
const keyText = (max: number) => z.string().min(1).max(max).refine(isWellFormed, { error: NOT_WELL_FORMED });

const checkFields = {
  identifier: keyText(AD_HOC_BOUNDS.maxIdentifierLength).optional()
    .describe(`Who or what is counted, e.g. a user id; 1–${AD_HOC_BOUNDS.maxIdentifierLength} characters. For a policy: the value of its "${IDENTIFIER_KEY}" entry.`),
  limit: z.number().int().min(1).max(AD_HOC_BOUNDS.maxLimit).optional()
    .describe(`Ad-hoc: units per duration, 1–${AD_HOC_BOUNDS.maxLimit} (sliding-window-log: up to ${AD_HOC_BOUNDS.maxLogLimit}).`),
  duration: duration.optional(),
  algorithm: z.enum(AD_HOC_ALGORITHMS).optional().describe('Ad-hoc: how the limit counts; default "gcra" (docs/algorithms.md).'),
  burst: z.number().int().min(1).max(AD_HOC_BOUNDS.maxLimit).optional()
    .describe(`Ad-hoc, gcra only: units that may arrive at once, 1–${AD_HOC_BOUNDS.maxLimit}; default limit.`),
  capacity: z.number().int().min(1).max(AD_HOC_BOUNDS.maxLimit).optional()
    .describe(`Ad-hoc, token-bucket only: tokens the bucket holds, 1–${AD_HOC_BOUNDS.maxLimit}; default limit; limit tokens refill per duration.`),
  namespace: nameSchema.optional().describe(`Ad-hoc: separates applications that share identifiers; default "${DEFAULT_NAMESPACE}".`),
  policy: nameSchema.optional().describe("A named policy from the config, instead of limit, duration and algorithm."),
  descriptor: z.array(z.strictObject({ key: keyText(128), value: keyText(256) })).min(1).max(MAX_DESCRIPTOR_ENTRIES).optional()
    .describe("A policy's descriptor entries, matched in order against its rules (Envoy's shape); `identifier` adds one last entry."),
  cost: z.number().int().min(0).max(AD_HOC_BOUNDS.maxLimit).optional().describe("Units to take; default 1. 0 reads the state without consuming."),
};

type CheckInput = z.output<z.ZodObject<typeof checkFields>>;

const AD_HOC_ONLY = ["limit", "duration", "algorithm", "namespace", "burst", "capacity"] as const;

/** Fields that belong to one algorithm only, as in the config's limits: [field, algorithm]. */
const ALGORITHM_FIELDS = [["burst", "gcra"], ["capacity", "token-bucket"]] as const;

/** The rules between fields, with issues at `path`; the resolved check, or undefined when an issue was added. */
function resolveCheck(check: CheckInput, ctx: z.RefinementCtx, path: readonly (string | number)[]): CheckSpec | undefined {
  const issue = (field: string, message: string) => ctx.addIssue({ code: "custom", path: [...path, field], message });
  let bad = false;
  const fail = (field: string, message: string) => {
    issue(field, message);
    bad = true;
  };
  const cost = check.cost ?? 1;
  if (check.policy !== undefined) {
    for (const field of AD_HOC_ONLY) if (check[field] !== undefined) fail(field, "the policy sets this; leave it out or drop policy");
    if (check.identifier === undefined && check.descriptor === undefined) fail("identifier", "a policy check needs an identifier or a descriptor");
    if (bad) return undefined;
    const descriptor = [...(check.descriptor ?? []), ...(check.identifier === undefined ? [] : [{ key: IDENTIFIER_KEY, value: check.identifier }])];
    if (descriptor.length > MAX_DESCRIPTOR_ENTRIES) fail("descriptor", `at most ${MAX_DESCRIPTOR_ENTRIES} entries, counting identifier`);
    return bad ? undefined : { kind: "policy", policy: check.policy, descriptor, cost };
  }
  if (check.descriptor !== undefined) fail("descriptor", "descriptor applies to named policies only: add policy");
  for (const field of ["identifier", "limit", "duration"] as const) {
    if (check[field] === undefined) fail(field, "required field is missing (or name a policy)");
  }
  const algorithm = check.algorithm ?? "gcra";
  for (const [field, only] of ALGORITHM_FIELDS) {
    if (check[field] !== undefined && algorithm !== only) fail(field, `${field} applies to the ${only} algorithm only`);
  }
  if (algorithm === "sliding-window-log" && check.limit !== undefined && check.limit > AD_HOC_BOUNDS.maxLogLimit) {
    fail("limit", `a sliding-window-log limit is at most ${AD_HOC_BOUNDS.maxLogLimit} (it keeps one timestamp per unit)`);
  }
  if (bad) return undefined;
  return {
    kind: "ad-hoc",
    namespace: check.namespace ?? DEFAULT_NAMESPACE,
    identifier: check.identifier!,
    algorithm,
    limit: check.limit!,
    windowMs: check.duration!,
    ...(check.burst !== undefined && { burst: check.burst }),
    ...(check.capacity !== undefined && { capacity: check.capacity }),
    cost,
  };
}

const check = z.strictObject(checkFields);

/** The one schema of a request body: one check, or `checks`. Its output is a DecisionRequest. */
export const decisionBody = z.strictObject({
  ...checkFields,
  checks: z.array(check).min(1).max(MAX_CHECKS).optional().describe(`Several checks, 1–${MAX_CHECKS}, decided all-or-nothing: admitted only if every one admits, and a refused call consumes nothing.`),
}).transform((body, ctx): DecisionRequest => {
  const { checks, ...single } = body;
  if (checks === undefined) {
    const spec = resolveCheck(single, ctx, []);
    return { checks: spec === undefined ? [] : [spec], batch: false };
  }
  const stray = Object.entries(single).filter(([, value]) => value !== undefined).map(([field]) => field);
  for (const field of stray) ctx.addIssue({ code: "custom", path: [field], message: "send either checks or the fields of one check, not both" });
  const specs = checks.map((c, i) => resolveCheck(c, ctx, ["checks", i]));
  return { checks: specs.filter((s) => s !== undefined), batch: true };
});

/** The answer for one limited check, or for the call as a whole. */
const limitedResult = z.object({
  allowed: z.boolean().describe("Whether the call is admitted. A denial is an answer, not an error."),
  limit: z.int().describe("Units per window."),
  remaining: z.int().describe("Units left: after this call when admitted, as they stand when denied."),
  reset: z.int().describe("Unix time in ms at which the limit is whole again if nothing more arrives, rounded up to a whole ms."),
  retryAfter: z.int().optional().describe("When denied: seconds to wait before the same call would be admitted (at least 1)."),
  reason: z.enum(["cost-exceeds-limit"]).optional().describe("When denied because the cost is larger than the limit can ever admit at once."),
});

/** The answer for a check no limit applies to (a policy rule without a limit, or no rule for the descriptor). */
const unlimitedResult = z.object({
  allowed: z.literal(true),
  unlimited: z.literal(true).describe("No limit applies."),
});

export const checkResult = z.union([limitedResult, unlimitedResult]);

/** The answer: the check that binds (the longest denial, else the fewest units left), and each check's own when sent as `checks`. */
export const decisionAnswer = z.union([
  limitedResult.extend({ checks: z.array(checkResult).optional().describe("Each check's result, in order, when the body sent checks.") }),
  unlimitedResult.extend({ checks: z.array(checkResult).optional() }),
]);

export type LimitedResult = z.infer<typeof limitedResult>;
export type CheckResult = z.infer<typeof checkResult>;
export type DecisionAnswer = z.infer<typeof decisionAnswer>;
