/**
 * Named policies, resolved the way Envoy's rate-limit service resolves its domains and
 * descriptors: the one place that turns (domain, descriptor entries) into the limit to check and
 * its counter key. Pure: no store, no clock, no I/O. The HTTP decision API and the Envoy gRPC
 * server both call it, so a policy means the same whichever way it is asked.
 *
 * Matching. A descriptor is an ordered list of entries `{ key, value }`. The first entry is
 * matched against the policy's top-level rules, the second against the rules nested in the rule
 * that matched, and so on. At each level a rule naming the entry's key and value wins over the
 * rule naming the key alone (the key's default). The descriptor is limited by the rule its LAST
 * entry matches: by that rule's limit, or not at all when the rule has none ("unlimited"). When an
 * entry matches no rule, or entries remain after a rule with no nested rules, nothing applies
 * ("no-rule"); Envoy answers both with OK and no current limit.
 *
 * Counters. One counter per distinct descriptor: the key is the domain, the algorithm and every
 * entry's key and value (`svc-policy:<domain>:<algorithm>|<k>=<v>&<k>=<v>`), so each value of a
 * default rule (each user, each address) counts on its own, and an override counts its one value.
 * The limit's numbers are not in the key: an operator who raises a limit keeps the counts, as with
 * the gateway's limits. The algorithm is, because each algorithm keeps state of another shape. The
 * part after `|` is what the Redis store makes the key's hash tag (its Cluster slot); keys and
 * values are URI-encoded, so neither `|`, `&`, `=` nor braces can make two descriptors one key.
 * Gateway keys begin with a limit's name, which cannot contain `:`, so the two never meet.
 *
 * Overrides. Envoy may send a descriptor with a limit of its own (`RateLimitOverride`: so many
 * requests per SECOND … YEAR). Envoy's reference service then counts that descriptor by the
 * override, whatever rule it matches (or none), in fixed windows aligned to the clock, a month
 * being 30 days and a year 365; so does `overriddenLimit`. Its counter is the descriptor's, in a
 * key of its own per unit (`svc-policy:<domain>:override-<unit>:fixed-window|…`): changing the
 * requests per unit keeps the count, as with configured limits, and another unit starts afresh.
 *
 * @example
 * const book = compilePolicyBook(config.policies);
 * book.resolve("emails", [{ key: "identifier", value: "user-42" }]);
 * // → { kind: "limited", policy: { name: "emails.identifier", algorithm: "gcra", … }, key: "svc-policy:emails:gcra|identifier=user-42" }
 */
import type { DescriptorRuleConfig, SluiceConfig } from "../config/schema.js";
import { compilePolicy } from "../limits/compilePolicy.js";
import type { LimitCheck, Policy } from "../limiter/policy.js";

/** One entry of a descriptor, as Envoy sends it (`RateLimitDescriptor.Entry`). */
export interface DescriptorEntry {
  readonly key: string;
  readonly value: string;
}

/** What a descriptor is limited by. */
export type DescriptorLimit =
  /** `policy` applies to the counter `key`. */
  | { readonly kind: "limited"; readonly policy: Policy; readonly key: string }
  /** The descriptor matched a rule that has no limit. */
  | { readonly kind: "unlimited" }
  /** No rule matches the descriptor; nothing limits it. */
  | { readonly kind: "no-rule" };

export interface PolicyBook {
  /** The configured policy (domain) names. */
  readonly domains: readonly string[];
  has(domain: string): boolean;
  /** What limits `entries` under `domain`; undefined when no policy has that name. */
  resolve(domain: string, entries: readonly DescriptorEntry[]): DescriptorLimit | undefined;
}

/** The first part of every counter key of a named policy. */
export const POLICY_KEY_PREFIX = "svc-policy:";

interface Rule {
  readonly policy: Policy | undefined;
  readonly next: Level | undefined;
}

/** One level of rules: by key, the key's default and its overrides by value. */
type Level = ReadonlyMap<string, { readonly byDefault: Rule | undefined; readonly byValue: ReadonlyMap<string, Rule> }>;

const UNLIMITED: DescriptorLimit = { kind: "unlimited" };
const NO_RULE: DescriptorLimit = { kind: "no-rule" };

/** A descriptor's own limit, as Envoy's `RateLimitOverride` states it. */
export interface LimitOverride {
  readonly requestsPerUnit: number;
  readonly unit: OverrideUnit;
}

/** The units of an override, with their length as Envoy's reference service counts them. */
export const OVERRIDE_UNITS = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, MONTH: 30 * 86_400_000, YEAR: 365 * 86_400_000 } as const;
export type OverrideUnit = keyof typeof OVERRIDE_UNITS;

/**
 * What limits a descriptor that carries an override: the override, counted in clock-aligned fixed
 * windows (see the header). `resolved` is what the rules say; only its store-failure mode carries
 * over, and it is not shadowed, as in Envoy's reference service.
 */
export function overriddenLimit(domain: string, entries: readonly DescriptorEntry[], resolved: DescriptorLimit, override: LimitOverride): Extract<DescriptorLimit, { kind: "limited" }> {
  const policy: Policy = {
    name: `${domain}:override`,
    algorithm: "fixed-window",
    align: "clock",
    limit: override.requestsPerUnit,
    windowMs: OVERRIDE_UNITS[override.unit],
    onStoreFailure: (resolved.kind === "limited" ? resolved.policy.onStoreFailure : undefined) ?? "open",
  };
  return { kind: "limited", policy, key: policyCounterKey(`${domain}:override-${override.unit.toLowerCase()}`, policy, entries) };
}

/** Compiles the config's `policies` once: every rule's Policy is built here, not per call. */
export function compilePolicyBook(policies: SluiceConfig["policies"]): PolicyBook {
  const roots = new Map(Object.entries(policies).map(([domain, p]) => [domain, compileLevel(domain, p.descriptors)]));
  return {
    domains: [...roots.keys()],
    has: (domain) => roots.has(domain),
    resolve(domain, entries) {
      const root = roots.get(domain);
      if (root === undefined) return undefined;
      if (entries.length === 0) return NO_RULE;
      let level: Level | undefined = root;
      let rule: Rule | undefined;
      for (const entry of entries) {
        if (level === undefined) return NO_RULE;
        const rules = level.get(entry.key);
        rule = rules?.byValue.get(entry.value) ?? rules?.byDefault;
        if (rule === undefined) return NO_RULE;
        level = rule.next;
      }
      const { policy } = rule!;
      return policy === undefined ? UNLIMITED : { kind: "limited", policy, key: policyCounterKey(domain, policy, entries) };
    },
  };
}

/** The check of a limited descriptor, taking `cost` units (0 reads the state without consuming). */
export function descriptorCheck(limit: Extract<DescriptorLimit, { kind: "limited" }>, cost: number): LimitCheck {
  return { key: limit.key, policy: limit.policy, cost };
}

/** `svc-policy:<domain>:<algorithm>|<k>=<v>&…`, keys and values URI-encoded. */
export function policyCounterKey(domain: string, policy: Policy, entries: readonly DescriptorEntry[]): string {
  let subject = "";
  for (let i = 0; i < entries.length; i++) {
    const { key, value } = entries[i]!;
    subject += (i === 0 ? "" : "&") + encodeURIComponent(key) + "=" + encodeURIComponent(value);
  }
  return `${POLICY_KEY_PREFIX}${domain}:${policy.algorithm}|${subject}`;
}

/** Policy names follow the rules' path, e.g. `emails.plan=pro.identifier`: headers and logs say which rule bound. */
function compileLevel(path: string, rules: readonly DescriptorRuleConfig[]): Level {
  const level = new Map<string, { byDefault: Rule | undefined; byValue: Map<string, Rule> }>();
  for (const rule of rules) {
    const name = `${path}.${rule.key}${rule.value === undefined ? "" : `=${rule.value}`}`;
    const compiled: Rule = {
      policy: rule.limit && compilePolicy(name, rule.limit),
      next: rule.descriptors && compileLevel(name, rule.descriptors),
    };
    let byKey = level.get(rule.key);
    if (byKey === undefined) level.set(rule.key, (byKey = { byDefault: undefined, byValue: new Map() }));
    if (rule.value === undefined) byKey.byDefault = compiled;
    else byKey.byValue.set(rule.value, compiled);
  }
  return level;
}
