/**
 * A signed-in user's own API keys under /account/api/keys: list, create, revoke, rotate — the
 * JSON API behind the dashboard's key pages. The session cookie authenticates, before any body is
 * read (userRequired: 401 without one, 403 for a change from another origin); the repository (apiKeys.ts) does the
 * work. A user sees and touches only their own keys: another user's key id answers 404, exactly
 * like an id that names no key, so ids cannot be probed.
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
import { replyProblem } from "../problems/fastifyProblems.js";
import { jsonRequestBody, jsonResponse, parseBody, problemResponse, replyInvalid, SMALL_BODY_LIMIT } from "./parseBody.js";
import { takesBody } from "./requestBodies.js";
import { signedInUser, userRequired } from "./sessionAuth.js";
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

export function registerAccountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): Promise<void> {
  const { accounts } = deps;
  // The accounts' clock: the one the gateway judges key expiry by.
  const { now } = accounts;
  // The session is checked before anything else, the body included (requestBodies.ts).
  const signedIn = { onRequest: userRequired(accounts) };
  const withBody = { ...signedIn, ...takesBody(SMALL_BODY_LIMIT) };

  /** The user's key with this id, or undefined (none, or someone else's: the same to the caller). */
  const ownKey = async (userId: string, id: string) => {
    const record = await accounts.apiKeys.get(id);
    return record?.userId === userId ? record : undefined;
  };
  const noSuchKey = (id: string) => `You have no key with id "${id}".`;

  app.get("/account/api/keys", signedIn, async function listOwnKeys(request, reply) {
    const user = signedInUser(request);
    // This instance's recorded uses first, so "last used" includes the call just made.
    await accounts.keyVerifier.flush().catch((error: unknown) => request.log.warn({ err: error }, "could not write API key uses before a list"));
    const records = await accounts.apiKeys.list({ userId: user.id, includeRevoked: true, limit: MAX_LIST_LIMIT });
    return reply.header("cache-control", "no-store").send({ keys: records.map(toApiKeyView) });
  });

  app.post("/account/api/keys", withBody, async function createOwnKey(request, reply) {
    const user = signedInUser(request);
    const body = await parseBody(createKeyBody, request, reply);
    if (body === undefined) return reply;
    const invalid: InvalidParam[] = [];
    const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
    if (expiresAt !== undefined && expiresAt.getTime() <= now()) invalid.push({ name: "expiresAt", reason: "must be in the future" });
    const services = deps.serviceNames === undefined ? undefined : new Set(deps.serviceNames());
    body.scopes?.forEach((scope, i) => {
      if (services !== undefined && !services.has(scope)) invalid.push({ name: `scopes.${i}`, reason: `no service named "${scope}"` });
    });
    if (invalid.length > 0) return replyInvalid(reply, invalid);

    const live = await accounts.apiKeys.list({ userId: user.id, limit: MAX_LIST_LIMIT });
    if (live.filter((k) => k.expiresAt === null || k.expiresAt.getTime() > now()).length >= MAX_LIVE_KEYS_PER_USER) {
      return replyProblem(reply, problems.conflict, `You have ${MAX_LIVE_KEYS_PER_USER} live keys, the most one user may hold; revoke one first.`);
    }
    const created = await accounts.apiKeys.create(user.id, {
      name: body.name,
      scopes: body.scopes === undefined ? null : [...new Set(body.scopes)],
      expiresAt: expiresAt ?? null,
    });
    return reply.code(201).header("cache-control", "no-store").send({ key: created.key, record: toApiKeyView(created.record) });
  });

  app.delete<{ Params: { id: string } }>("/account/api/keys/:id", signedIn, async function revokeOwnKey(request, reply) {
    const user = signedInUser(request);
    if ((await ownKey(user.id, request.params.id)) === undefined) return replyProblem(reply, problems.notFound, noSuchKey(request.params.id));
    await accounts.apiKeys.revoke(request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>("/account/api/keys/:id/rotate", withBody, async function rotateOwnKey(request, reply) {
    const user = signedInUser(request);
    const body = await parseBody(rotateKeyBody, request, reply);
    if (body === undefined) return reply;
    if ((await ownKey(user.id, request.params.id)) === undefined) return replyProblem(reply, problems.notFound, noSuchKey(request.params.id));
    const rotated = await accounts.apiKeys.rotate(request.params.id, body.graceSeconds * 1000);
    if (rotated === undefined) return replyProblem(reply, problems.conflict, "The key is revoked, expired or already rotated; only a live key can be rotated.");
    return reply.code(201).header("cache-control", "no-store").send({
      key: rotated.key,
      record: toApiKeyView(rotated.record),
      replaced: toApiKeyView(rotated.replaced),
    });
  });

  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

const session = [{ session: [] }];
const notSignedIn = problemResponse("No valid session cookie.");
const crossSite = problemResponse("A change came from another origin.");
const notFound = problemResponse("You have no key with this id.");
const idParameter = { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } };

/** The /account/api/keys endpoints as an OpenAPI 3.1 `paths` fragment (cookie scheme `session`: SESSION_SECURITY_SCHEMES). */
export const ACCOUNT_OPENAPI_PATHS = {
  "/account/api/keys": {
    get: {
      tags: ["account"],
      summary: "Your API keys, newest first, revoked ones included (never the keys themselves)",
      security: session,
      responses: { "200": jsonResponse("Your keys.", keyList), "401": notSignedIn },
    },
    post: {
      tags: ["account"],
      summary: "Make a new API key; the answer is the only place the key is ever shown",
      security: session,
      requestBody: jsonRequestBody(createKeyBody),
      responses: {
        "201": jsonResponse("The key (shown once) and its record.", newKey),
        "400": problemResponse("A field is invalid; `invalidParams` names each."),
        "401": notSignedIn,
        "403": crossSite,
        "409": problemResponse(`You hold ${MAX_LIVE_KEYS_PER_USER} live keys already.`),
        "413": problemResponse(`The body is larger than ${SMALL_BODY_LIMIT} bytes.`),
      },
    },
  },
  "/account/api/keys/{id}": {
    delete: {
      tags: ["account"],
      summary: "Revoke one of your keys: the gateway refuses it from now on",
      security: session,
      parameters: [idParameter],
      responses: { "204": { description: "Revoked (also when it was already)." }, "401": notSignedIn, "403": crossSite, "404": notFound },
    },
  },
  "/account/api/keys/{id}/rotate": {
    post: {
      tags: ["account"],
      summary: "Replace one of your keys with a new one; the old one keeps working for a grace period",
      security: session,
      parameters: [idParameter],
      requestBody: jsonRequestBody(rotateKeyBody, false),
      responses: {
        "201": jsonResponse("The new key (shown once), its record, and the replaced key's record.", rotatedKey),
        "400": problemResponse("A field is invalid; `invalidParams` names each."),
        "401": notSignedIn,
        "403": crossSite,
        "404": notFound,
        "409": problemResponse("The key is revoked, expired or already rotated."),
      },
    },
  },
} as const;

/** A signed-in user's own keys, in /openapi.json. */
export const ACCOUNT_OPENAPI: OpenApiSection = {
  tags: [{ name: "account", description: "Your own API keys, with your session cookie." }],
  paths: ACCOUNT_OPENAPI_PATHS,
  securitySchemes: {},
};
