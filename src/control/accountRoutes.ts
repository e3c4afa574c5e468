/**
 * A signed-in user's own API keys under /account/api/keys: list, create, revoke, rotate — the
 * JSON API behind the dashboard's key pages, a route table (defineRoute.ts). The session cookie
 * authenticates, before any body is read (401 without one, 403 for a change from another
 * origin); the repository (apiKeys.ts) does the work. A user sees and touches only their own
 * keys: another user's key id answers 404, exactly like an id that names no key, so ids cannot
 * be probed.
 *
 * A new key is in the answer to the request that made it (create, rotate) and nowhere else:
 * lists show its `start` (`sk_` + 6 characters), never the key nor its hash. A revoked or
 * rotated key stops verifying at the gateway on every instance within moments (the change is
 * announced from the transaction that makes it). Users cannot pick a plan for a key; that is an
 * admin's (adminApi.ts).
 *
 * @example
 * await registerAccountRoutes(app, { accounts, serviceNames: () => table.keys() });
 * // POST /account/api/keys {"name":"laptop"} → 201 {"key":"sk_…","record":{…}}
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import { MAX_LIST_LIMIT, type ApiKeyRecord } from "../accounts/apiKeys.js";
import type { InvalidParam } from "../config/invalidParams.js";
import { nameSchema } from "../config/schema.js";
import { problems } from "../problems/catalogue.js";
import { ProblemError } from "../problems/problemError.js";
import { created, noContent, ok, registerRoutes, routeFor } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import { writePendingKeyUses } from "./keyUses.js";
import { signedInUser } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";

export interface AccountRoutesDeps {
  readonly accounts: Accounts;
  /**
   * Services a key may be scoped to, asked at each request: the live route table's, so a service
   * a reload adds or removes is accepted or refused at once. When undefined, any well-formed name.
   */
  readonly serviceNames?: (() => Iterable<string>) | undefined;
}

/** Keys a user may hold that are neither revoked nor expired. */
export const MAX_LIVE_KEYS_PER_USER = 100;
/** How long a rotated key keeps working by default: an hour, to roll the new one out. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 3600;
/** The longest grace a rotation may give the old key: a week. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
const MAX_SCOPES = 64;

/** POST /account/api/keys */
export const createKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100).meta({ description: "To recognise the key in lists.", examples: ["laptop"] }),
  expiresAt: z.iso.datetime({ offset: true }).optional().meta({ description: "When the key stops working (RFC 3339, in the future); never when omitted." }),
  scopes: z.array(nameSchema).min(1).max(MAX_SCOPES).optional().meta({ description: "Services the key may call; all when omitted." }),
});

/** POST /account/api/keys/:id/rotate (the body is optional) */
export const rotateKeyBody = z.strictObject({
  graceSeconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS).default(DEFAULT_ROTATION_GRACE_SECONDS)
    .meta({ description: "How long the old key keeps working (never past its own expiry); 0 ends it now." }),
});

const dateTime = z.string().meta({ format: "date-time" });

/** A key as its owner sees it: never the key, never its hash. */
export const apiKeyView = z.object({
  id: z.string().meta({ format: "uuid" }),
  start: z.string().meta({ description: "The key's first characters (`sk_` + 6), to recognise it.", examples: ["sk_4fZq2b"] }),
  name: z.string(),
  scopes: z.array(z.string()).nullable().meta({ description: "Services the key may call; null: all." }),
  plan: z.string().nullable().meta({ description: "A plan set on the key by an admin; null: the owner's." }),
  createdAt: dateTime,
  lastUsedAt: dateTime.nullable(),
  expiresAt: dateTime.nullable(),
  revokedAt: dateTime.nullable(),
  replacedBy: z.string().nullable().meta({ description: "The key that replaced this one when it was rotated." }),
});
export type ApiKeyView = z.infer<typeof apiKeyView>;

export function toApiKeyView(record: ApiKeyRecord): ApiKeyView {
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return {
    id: record.id,
    start: record.start,
    name: record.name,
    scopes: record.scopes === null ? null : [...record.scopes],
    plan: record.plan,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: iso(record.lastUsedAt),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    replacedBy: record.replacedBy,
  };
}

const keyList = z.object({ keys: z.array(apiKeyView) });
const newKey = z.object({ key: z.string().meta({ description: "The key itself: shown this once, never again.", examples: ["sk_4fZq2bN8…"] }), record: apiKeyView });
const rotatedKey = newKey.extend({ replaced: apiKeyView.meta({ description: "The old key, now ending at its new expiry." }) });

const route = routeFor<AccountRoutesDeps>();
const tags = ["account"];
const idParams = z.object({ id: z.string().meta({ format: "uuid" }) });
const noSuchKey = (id: string) => new ProblemError(problems.notFound, `You have no key with id "${id}".`);

/** The user's key with this id, or undefined (none, or someone else's: the same to the caller). */
async function ownKey(accounts: Accounts, userId: string, id: string): Promise<ApiKeyRecord | undefined> {
  const record = await accounts.apiKeys.get(id);
  return record?.userId === userId ? record : undefined;
}

/** The /account/api/keys endpoints: the session is checked before anything else, the body included. */
export const ACCOUNT_ROUTES = [
  route({
    method: "GET", url: "/account/api/keys", operationId: "listOwnKeys", auth: "session", tags,
    summary: "Your API keys, newest first, revoked ones included (never the keys themselves)",
    responses: { 200: { description: "Your keys.", schema: keyList } },
    handle: async ({ deps: { accounts }, request }) => {
      await writePendingKeyUses(accounts, request.log);
      const records = await accounts.apiKeys.list({ userId: signedInUser(request).id, includeRevoked: true, limit: MAX_LIST_LIMIT });
      return ok({ keys: records.map(toApiKeyView) });
    },
  }),
  route({
    method: "POST", url: "/account/api/keys", operationId: "createOwnKey", auth: "session", tags,
    summary: "Make a new API key; the answer is the only place the key is ever shown",
    body: createKeyBody,
    responses: { 201: { description: "The key (shown once) and its record.", schema: newKey } },
    problems: { 409: `You hold ${MAX_LIVE_KEYS_PER_USER} live keys already.` },
    handle: async ({ deps, body, request }) => {
      const { accounts } = deps;
      // The accounts' clock: the one the gateway judges key expiry by.
      const now = accounts.now();
      const user = signedInUser(request);
      const invalid: InvalidParam[] = [];
      const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
      if (expiresAt !== undefined && expiresAt.getTime() <= now) invalid.push({ name: "expiresAt", reason: "must be in the future" });
      const services = deps.serviceNames === undefined ? undefined : new Set(deps.serviceNames());
      body.scopes?.forEach((scope, i) => {
        if (services !== undefined && !services.has(scope)) invalid.push({ name: `scopes.${i}`, reason: `no service named "${scope}"` });
      });
      if (invalid.length > 0) throw ProblemError.invalid(invalid, "request body");

      const live = await accounts.apiKeys.list({ userId: user.id, limit: MAX_LIST_LIMIT });
      if (live.filter((k) => k.expiresAt === null || k.expiresAt.getTime() > now).length >= MAX_LIVE_KEYS_PER_USER) {
        throw new ProblemError(problems.conflict, `You have ${MAX_LIVE_KEYS_PER_USER} live keys, the most one user may hold; revoke one first.`);
      }
      const made = await accounts.apiKeys.create(user.id, {
        name: body.name,
        scopes: body.scopes === undefined ? null : [...new Set(body.scopes)],
        expiresAt: expiresAt ?? null,
      });
      return created({ key: made.key, record: toApiKeyView(made.record) });
    },
  }),
  route({
    method: "DELETE", url: "/account/api/keys/:id", operationId: "revokeOwnKey", auth: "session", tags,
    summary: "Revoke one of your keys: the gateway refuses it from now on",
    params: idParams,
    responses: { 204: { description: "Revoked (also when it was already)." } },
    problems: { 404: "You have no key with this id." },
    handle: async ({ deps: { accounts }, params, request }) => {
      if ((await ownKey(accounts, signedInUser(request).id, params.id)) === undefined) throw noSuchKey(params.id);
      await accounts.apiKeys.revoke(params.id);
      return noContent();
    },
  }),
  route({
    method: "POST", url: "/account/api/keys/:id/rotate", operationId: "rotateOwnKey", auth: "session", tags,
    summary: "Replace one of your keys with a new one; the old one keeps working for a grace period",
    params: idParams,
    body: rotateKeyBody, bodyOptional: true,
    responses: { 201: { description: "The new key (shown once), its record, and the replaced key's record.", schema: rotatedKey } },
    problems: { 404: "You have no key with this id.", 409: "The key is revoked, expired or already rotated." },
    handle: async ({ deps: { accounts }, params, body, request }) => {
      if ((await ownKey(accounts, signedInUser(request).id, params.id)) === undefined) throw noSuchKey(params.id);
      const rotated = await accounts.apiKeys.rotate(params.id, body.graceSeconds * 1000);
      if (rotated === undefined) throw new ProblemError(problems.conflict, "The key is revoked, expired or already rotated; only a live key can be rotated.");
      return created({ key: rotated.key, record: toApiKeyView(rotated.record), replaced: toApiKeyView(rotated.replaced) });
    },
  }),
];

export function registerAccountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): Promise<void> {
  registerRoutes(app, ACCOUNT_ROUTES, deps);
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** The /account/api/keys endpoints as an OpenAPI 3.1 `paths` fragment (cookie scheme `session`: SESSION_SECURITY_SCHEMES). */
export const ACCOUNT_OPENAPI_PATHS = openApiPaths(ACCOUNT_ROUTES);

/** A signed-in user's own keys, in /openapi.json. */
export const ACCOUNT_OPENAPI: OpenApiSection = {
  tags: [{ name: "account", description: "Your own API keys, with your session cookie." }],
  paths: ACCOUNT_OPENAPI_PATHS,
  securitySchemes: {},
};
