/**
 * Confines service tokens. A token's scope (serviceTokens.ts) names the ad-hoc namespaces and the
 * named policies it may use; over gRPC a policy is Envoy's domain. The scope binds every call
 * alike, a decision, a read at cost 0 and a reset, so one application's token can neither spend,
 * read nor wipe another's counters. The HTTP API answers a call outside it with 403
 * `out-of-scope` naming the first field outside it, the gRPC server with PERMISSION_DENIED.
 *
 * The default is backwards compatible: a token without a scope (`null`; every token made before
 * scopes existed, and one made without naming a scope) may use every namespace and policy, as
 * before, so an upgrade turns away no running application. `serviceTokens.requireScope` refuses
 * such tokens once an operator has given every application a scoped one. The admin token is the
 * operator's and has no scope.
 *
 * @example
 * requestOutOfScope(caller, decisionBody.parse({ identifier: "u", limit: 1, duration: "1m", namespace: "emails" }), false);
 * // → 'Namespace "emails" (namespace) is outside this token's scope (namespaces: billing; policies: none)', or undefined
 */
import type { DecisionRequest } from "./decisionRequest.js";
import type { ServiceCaller } from "./serviceAuth.js";
import type { TokenScope } from "./serviceTokens.js";

const UNSCOPED_REFUSED = "This token has no scope, and serviceTokens.requireScope refuses such tokens: make one that names its namespaces and policies";

/** Why `caller` may not make these checks: the first one outside its scope, by field; undefined when it may. */
export function requestOutOfScope(caller: ServiceCaller, request: DecisionRequest, requireScope: boolean): string | undefined {
  const { scope } = caller;
  if (scope === null) return unscoped(caller, requireScope);
  for (const [i, check] of request.checks.entries()) {
    const [field, name, allowed] = check.kind === "ad-hoc" ? ["namespace", check.namespace, scope.namespaces] as const : ["policy", check.policy, scope.policies] as const;
    if (!allowed.includes(name)) return `${field === "namespace" ? "Namespace" : "Policy"} "${name}" (${request.batch ? `checks.${i}.${field}` : field}) is outside this token's scope ${listed(scope)}`;
  }
  return undefined;
}

/** Why `caller` may not ask Envoy's ShouldRateLimit about `domain` (a policy's name); undefined when it may. */
export function domainOutOfScope(caller: ServiceCaller, domain: string, requireScope: boolean): string | undefined {
  const { scope } = caller;
  if (scope === null) return unscoped(caller, requireScope);
  return scope.policies.includes(domain) ? undefined : `Domain "${domain}" is outside this token's scope ${listed(scope)}`;
}

function unscoped(caller: ServiceCaller, requireScope: boolean): string | undefined {
  return caller.kind === "service-token" && requireScope ? UNSCOPED_REFUSED : undefined;
}

/** The caller's own scope, so that whoever holds the token can see what it was given. */
function listed({ namespaces, policies }: TokenScope): string {
  const names = (list: readonly string[]) => (list.length === 0 ? "none" : list.join(", "));
  return `(namespaces: ${names(namespaces)}; policies: ${names(policies)})`;
}
