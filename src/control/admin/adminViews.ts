/**
 * How the admin API shows users, API keys, plans and service tokens: one zod schema per view
 * (the OpenAPI document's response schemas) and the function that fills it field by field, so
 * no password hash, key hash or token digest can reach an answer by being added to a record.
 * Times are ISO strings.
 */
import { z } from "zod";
import type { ApiKeyRecord } from "../../accounts/apiKeys.js";
import type { Plan } from "../../accounts/plans.js";
import { ROLES, type User } from "../../accounts/users.js";
import { SERVICE_TOKEN_RIGHTS, type ServiceTokenRecord } from "../../service/serviceTokens.js";

/** A query string flag: exactly "true" or "false". */
export const flag = z.enum(["true", "false"]).transform((value) => value === "true");
export const isoTime = z.iso.datetime({ offset: true });

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(ROLES),
  plan: z.string(),
  disabledAt: isoTime.nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const keyView = z.object({
  id: z.uuid(),
  start: z.string().describe("The key's first characters, to recognise it."),
  name: z.string(),
  userId: z.uuid(),
  scopes: z.array(z.string()).nullable(),
  plan: z.string().nullable(),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable(),
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
  replacedBy: z.uuid().nullable(),
});

export const planView = z.object({
  name: z.string(),
  description: z.string(),
  limits: z.record(z.string(), z.record(z.string(), z.unknown())).describe("As written, durations as strings."),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const serviceTokenView = z.object({
  id: z.uuid(),
  start: z.string().describe("The token's first characters, to recognise it."),
  name: z.string(),
  rights: z.array(z.enum(SERVICE_TOKEN_RIGHTS)),
  scope: z.object({ namespaces: z.array(z.string()), policies: z.array(z.string()) }).nullable().describe("null: every namespace and policy."),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

const iso = (date: Date | null) => date && date.toISOString();

export function viewUser(user: User): z.input<typeof userView> {
  return { id: user.id, email: user.email, role: user.role, plan: user.plan, disabledAt: iso(user.disabledAt), createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() };
}

export function viewKey(key: ApiKeyRecord): z.input<typeof keyView> {
  return {
    id: key.id, start: key.start, name: key.name, userId: key.userId, scopes: key.scopes && [...key.scopes], plan: key.plan,
    createdAt: key.createdAt.toISOString(), lastUsedAt: iso(key.lastUsedAt), expiresAt: iso(key.expiresAt), revokedAt: iso(key.revokedAt), replacedBy: key.replacedBy,
  };
}

export function viewPlan(plan: Plan): z.input<typeof planView> {
  return { name: plan.name, description: plan.description, limits: plan.limits, createdAt: plan.createdAt.toISOString(), updatedAt: plan.updatedAt.toISOString() };
}

export function viewServiceToken(token: ServiceTokenRecord): z.input<typeof serviceTokenView> {
  return {
    id: token.id, start: token.start, name: token.name, rights: [...token.rights],
    scope: token.scope && { namespaces: [...token.scope.namespaces], policies: [...token.scope.policies] },
    createdAt: token.createdAt.toISOString(), expiresAt: iso(token.expiresAt), revokedAt: iso(token.revokedAt),
  };
}
