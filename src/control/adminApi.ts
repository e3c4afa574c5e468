/**
 * The admin API under /admin/api: users, API keys, plans and service tokens, as JSON, for an
 * admin's session or the operator's token (`Authorization: Bearer <SLUICE_ADMIN_TOKEN>`; sessionAuth.ts decides who
 * may call, before any body is read). The dashboard and scripts use it; the CLI and the account
 * routes reach the same repositories through `Accounts` (accounts.ts).
 *
 * Architecture. Every endpoint is one entry of `ADMIN_ROUTES`: method, path, the zod schemas of its
 * query and body, its success and problem responses, and a handler. The same table registers the
 * Fastify routes and writes `ADMIN_OPENAPI_PATHS`, so the document cannot drift from what is served.
 * Queries and bodies are parsed at the edge by their schema (bodies up to 64 KiB, strict: an
 * unknown field is an error); handlers get typed values.
 *
 * Errors. Bad input is a 400 `bad-request` whose `invalidParams` name every bad field
 * (`[{ name: "limits.gold-rate.window", reason }]`, RFC 9457's example extension). The accounts'
 * own errors map to problems here: EmailTaken and PlanInUse to 409, InvalidEmail, PasswordRejected,
 * UnknownPlan, InvalidPlan and InvalidCursor to 400 naming the field. Anything else reaches the
 * control plane's error handler (500, logged).
 *
 * Output. camelCase JSON, times as ISO strings, and never a password hash or a key hash: users and
 * key records come from repositories that do not read them, and pass through views that list
 * their fields one by one. A new key's plaintext appears once, in the answer that creates it.
 *
 * @example
 * curl -H "Authorization: Bearer $SLUICE_ADMIN_TOKEN" 'http://127.0.0.1:8080/admin/api/users?role=admin&limit=20'
 * // → { "items": [{ "id": "…", "email": "ada@example.com", "role": "admin", … }], "total": 1 }
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import type { ApiKeyRecord } from "../accounts/apiKeys.js";
import { PasswordHashingBusy, PasswordRejected } from "../accounts/passwords.js";
import { InvalidPlan, MAX_DESCRIPTION_LENGTH, PlanInUse, UnknownPlan, type Plan } from "../accounts/plans.js";
import { SESSION_COOKIE, SessionStore } from "../accounts/sessions.js";
import { EmailTaken, InvalidCursor, InvalidEmail, MAX_PAGE_SIZE, ROLES, UserRepository, type User } from "../accounts/users.js";
import { invalidParams, type InvalidParam } from "../config/invalidParams.js";
import { SERVICE_TOKEN_RIGHTS, serviceTokenRepository, type ServiceTokenRecord } from "../service/serviceTokens.js";
import { limitSchema, nameSchema, type LimitInput } from "../config/schema.js";
import { problems, type ProblemKind } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import { takesBody } from "./requestBodies.js";
import { requireAdmin } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";
import { openApiSchema } from "./parseBody.js";

export interface AdminApiDeps {
  readonly accounts: Accounts;
  /** SLUICE_ADMIN_TOKEN: accepted as a Bearer token besides an admin's session. */
  readonly adminToken: string | undefined;
}

export const ADMIN_API_PREFIX = "/admin/api";
/** Largest JSON body accepted: a plan with many limits fits many times over. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

// ─── Schemas: one per query, body and response ──────────────────────────────────────────────────

/** A query string flag: exactly "true" or "false". */
const flag = z.enum(["true", "false"]).transform((value) => value === "true");
const isoTime = z.iso.datetime({ offset: true });

const userListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Page size, 1–${MAX_PAGE_SIZE}; default 50.`),
  cursor: z.string().optional().describe("`nextCursor` of the previous page."),
  role: z.enum(ROLES).optional(),
  plan: z.string().optional(),
  disabled: flag.optional().describe("true: disabled accounts only; false: enabled ones only."),
  email: z.string().max(254).optional().describe("Case-insensitive part of the email address."),
});

const newUserBody = z.strictObject({
  email: z.string().max(1000).describe("At most 254 characters once trimmed; unique whatever its case."),
  password: z.string().max(4096).describe("8 to 256 characters."),
  role: z.enum(ROLES).optional().describe('Default "user".'),
  plan: z.string().optional().describe('Default "free".'),
});

const userPatchBody = z.strictObject({
  plan: z.string().optional(),
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional().describe("true also ends the user's sessions; their keys stop verifying."),
});

const keyListQuery = z.strictObject({
  userId: z.uuid().optional(),
  includeRevoked: flag.optional().describe("Revoked keys are left out unless true."),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`1–${MAX_PAGE_SIZE}; default 50.`),
  offset: z.coerce.number().int().min(0).optional(),
});

const newKeyBody = z.strictObject({
  userId: z.uuid().describe("The owner."),
  name: z.string().trim().min(1).max(100),
  scopes: z.array(nameSchema).max(100).nullable().optional().describe("Services the key may call; null or absent: all."),
  plan: z.string().nullable().optional().describe("Overrides the owner's plan; null or absent: the owner's."),
  expiresAt: isoTime.nullable().optional(),
});

const rotateBody = z.strictObject({
  graceSeconds: z.number().int().min(0).max(30 * 24 * 3600).optional().describe("How long the old key keeps working; default 0."),
});

const planBody = z.strictObject({
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  limits: z.record(nameSchema, limitSchema).describe("Limit name → limit, as in the config file's `limits`."),
});

const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(ROLES),
  plan: z.string(),
  disabledAt: isoTime.nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

const keyView = z.object({
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

const planView = z.object({
  name: z.string(),
  description: z.string(),
  limits: z.record(z.string(), z.record(z.string(), z.unknown())).describe("As written, durations as strings."),
  createdAt: isoTime,
  updatedAt: isoTime,
});

const userPage = z.object({ items: z.array(userView), total: z.int(), nextCursor: z.string().optional() });
const keyPage = z.object({ items: z.array(keyView), nextOffset: z.int().optional().describe("Present when more keys follow.") });
const planList = z.object({ items: z.array(planView) });
const newKey = z.object({ key: z.string().describe("The key: shown this once, never again."), record: keyView });
const rotatedKey = newKey.extend({ replaced: keyView.describe("The old key, now expiring after the grace period.") });

const serviceTokenListQuery = z.strictObject({
  includeRevoked: flag.optional().describe("Revoked tokens are left out unless true."),
});

const tokenScope = z.strictObject({
  namespaces: z.array(nameSchema).max(100).default([]).describe("Ad-hoc namespaces the token may use (an ad-hoc check without one uses \"default\"); none when omitted."),
  policies: z.array(nameSchema).max(100).default([]).describe("Named policies (over gRPC: Envoy domains) the token may use; none when omitted."),
});

const newServiceTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100).describe("Who uses it, e.g. the calling application."),
  rights: z.array(z.enum(SERVICE_TOKEN_RIGHTS)).min(1).optional().describe('"decide": decisions and reads of state (default); "reset": forget a limit\'s counters.'),
  scope: tokenScope.nullable().optional()
    .describe("What the token may use, for decisions, reads and resets alike; null or absent: every namespace and policy (unless serviceTokens.requireScope)."),
  expiresAt: isoTime.nullable().optional(),
});

const serviceTokenView = z.object({
  id: z.uuid(),
  start: z.string().describe("The token's first characters, to recognise it."),
  name: z.string(),
  rights: z.array(z.enum(SERVICE_TOKEN_RIGHTS)),
  scope: z.object({ namespaces: z.array(z.string()), policies: z.array(z.string()) }).nullable().describe("null: every namespace and policy."),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

const serviceTokenList = z.object({ items: z.array(serviceTokenView) });
const newServiceToken = z.object({ token: z.string().describe("The token: shown this once, never again."), record: serviceTokenView });

type UserView = z.infer<typeof userView>;
type KeyView = z.infer<typeof keyView>;
type PlanView = z.infer<typeof planView>;

const iso = (date: Date | null) => date && date.toISOString();

function viewUser(user: User): UserView {
  return { id: user.id, email: user.email, role: user.role, plan: user.plan, disabledAt: iso(user.disabledAt), createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() };
}

function viewKey(key: ApiKeyRecord): KeyView {
  return {
    id: key.id, start: key.start, name: key.name, userId: key.userId, scopes: key.scopes && [...key.scopes], plan: key.plan,
    createdAt: key.createdAt.toISOString(), lastUsedAt: iso(key.lastUsedAt), expiresAt: iso(key.expiresAt), revokedAt: iso(key.revokedAt), replacedBy: key.replacedBy,
  };
}

function viewServiceToken(token: ServiceTokenRecord): z.infer<typeof serviceTokenView> {
  return {
    id: token.id, start: token.start, name: token.name, rights: [...token.rights],
    scope: token.scope && { namespaces: [...token.scope.namespaces], policies: [...token.scope.policies] },
    createdAt: token.createdAt.toISOString(), expiresAt: iso(token.expiresAt), revokedAt: iso(token.revokedAt),
  };
}

function viewPlan(plan: Plan): PlanView {
  return { name: plan.name, description: plan.description, limits: plan.limits, createdAt: plan.createdAt.toISOString(), updatedAt: plan.updatedAt.toISOString() };
}

// ─── Errors ─────────────────────────────────────────────────────────────────────────────────────

/** A problem a handler answers with, rather than a failure. */
class AdminProblem extends Error {
  constructor(readonly kind: ProblemKind, readonly detail: string, readonly invalidParams?: readonly InvalidParam[]) {
    super(detail);
    this.name = "AdminProblem";
  }
}

function badInput(invalidParams: readonly InvalidParam[]): AdminProblem {
  return new AdminProblem(problems.badRequest, invalidParams.map((p) => `${p.name || "(body)"}: ${p.reason}`).join("; "), invalidParams);
}

const notFound = (what: string) => new AdminProblem(problems.notFound, `No ${what}.`);

/** The accounts' refusals as problems; undefined for real failures. */
function accountsProblem(error: unknown): AdminProblem | undefined {
  if (error instanceof AdminProblem) return error;
  if (error instanceof EmailTaken) return new AdminProblem(problems.conflict, error.message);
  if (error instanceof PlanInUse) return new AdminProblem(problems.conflict, error.message);
  if (error instanceof InvalidEmail) return badInput([{ name: "email", reason: error.message }]);
  if (error instanceof PasswordRejected) return badInput([{ name: "password", reason: error.message }]);
  if (error instanceof UnknownPlan) return badInput([{ name: "plan", reason: error.message }]);
  if (error instanceof InvalidCursor) return badInput([{ name: "cursor", reason: error.message }]);
  if (error instanceof InvalidPlan) return badInput(error.issues);
  return undefined;
}

// ─── Routes ─────────────────────────────────────────────────────────────────────────────────────

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface Answer {
  readonly status: number;
  readonly body?: unknown;
}

interface RawInput {
  readonly params: Readonly<Record<string, string>>;
  readonly query: unknown;
  readonly body: unknown;
}

/** One endpoint: what it takes, what it answers, and how. */
interface AdminRoute {
  readonly method: Method;
  /** Under ADMIN_API_PREFIX, Fastify style (`/users/:id`). */
  readonly path: string;
  readonly tag: "users" | "keys" | "plans" | "service tokens";
  readonly summary: string;
  readonly query?: z.ZodType | undefined;
  readonly body?: z.ZodType | undefined;
  /** The body may be left out altogether (read as `{}`). */
  readonly bodyOptional?: boolean | undefined;
  readonly success: { readonly status: number; readonly description: string; readonly schema?: z.ZodType | undefined };
  /** Problems besides the ones every admin route may answer (400, 401, 403). */
  readonly problems: readonly ProblemKind[];
  handle(accounts: Accounts, input: RawInput): Promise<Answer>;
}

interface RouteSpec<Q extends z.ZodType, B extends z.ZodType> extends Omit<AdminRoute, "handle" | "query" | "body"> {
  readonly query?: Q;
  readonly body?: B;
  handle(accounts: Accounts, input: { readonly params: Readonly<Record<string, string>>; readonly query: z.output<Q>; readonly body: z.output<B>; readonly rawBody: unknown }): Promise<Answer>;
}

/** Parses `value` with `schema`, or throws the 400 naming each bad field (prefixed by `where` for queries). */
function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw badInput(invalidParams(result.error));
  return result.data;
}

/** An entry of the table, its handler typed by its schemas (which are applied before it runs). */
function route<Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<Q, B>): AdminRoute {
  return {
    ...spec,
    handle: (accounts, { params, query, body }) => {
      const rawBody = body ?? (spec.bodyOptional === true ? {} : undefined);
      if (spec.body !== undefined && rawBody === undefined) throw badInput([{ name: "", reason: "a JSON body is required" }]);
      return spec.handle(accounts, {
        params,
        query: (spec.query === undefined ? undefined : parse(spec.query, query)) as z.output<Q>,
        body: (spec.body === undefined ? undefined : parse(spec.body, rawBody)) as z.output<B>,
        rawBody,
      });
    },
  };
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const created = (body: unknown): Answer => ({ status: 201, body });

/** The user, or the 404. */
async function existingUser(users: UserRepository, id: string): Promise<User> {
  const user = await users.findById(id);
  if (user === undefined) throw notFound(`user with id "${id}"`);
  return user;
}

/**
 * Applies a patch in one transaction: role, plan and disabled change together or not at all, and
 * disabling ends the user's sessions with it. The last enabled admin may be neither demoted nor
 * disabled: the enabled admins are counted under a row lock, so concurrent patches cannot each
 * remove one of the last two.
 */
async function patchUser(accounts: Accounts, id: string, patch: z.output<typeof userPatchBody>): Promise<User> {
  return accounts.db.transaction(async (tx) => {
    const users = new UserRepository(tx);
    let user = await existingUser(users, id);
    const losesAdmin = user.role === "admin" && user.disabledAt === null && (patch.role === "user" || patch.disabled === true);
    if (losesAdmin && (await users.countAdmins({ lock: true })) <= 1) {
      throw new AdminProblem(problems.conflict, "This is the last enabled admin: make another admin first.");
    }
    if (patch.plan !== undefined) user = (await users.setPlan(id, patch.plan)) ?? user;
    if (patch.role !== undefined) user = (await users.setRole(id, patch.role)) ?? user;
    if (patch.disabled !== undefined) {
      user = (await users.setDisabled(id, patch.disabled)) ?? user;
      if (patch.disabled) await new SessionStore(tx).revokeAllFor(id);
    }
    return user;
  });
}

const DEFAULT_LIST_SIZE = 50;

const ADMIN_ROUTES: readonly AdminRoute[] = [
  route({
    method: "GET", path: "/users", tag: "users", summary: "List users, by email address, a page at a time",
    query: userListQuery,
    success: { status: 200, description: "One page; follow `nextCursor` for the next.", schema: userPage },
    problems: [],
    handle: async (accounts, { query }) => {
      const { email, ...rest } = query;
      const page = await accounts.users.list({ ...rest, emailContains: email });
      return ok({ items: page.items.map(viewUser), total: page.total, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) });
    },
  }),
  route({
    method: "POST", path: "/users", tag: "users", summary: "Create a user",
    body: newUserBody,
    success: { status: 201, description: "The new user.", schema: userView },
    problems: [problems.conflict, problems.busy],
    handle: async (accounts, { body: { role, plan, ...credentials } }) =>
      created(viewUser(await accounts.createUser({ ...credentials, ...(role !== undefined && { role }), ...(plan !== undefined && { plan }) }))),
  }),
  route({
    method: "GET", path: "/users/:id", tag: "users", summary: "One user",
    success: { status: 200, description: "The user.", schema: userView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => ok(viewUser(await existingUser(accounts.users, params["id"]!))),
  }),
  route({
    method: "PATCH", path: "/users/:id", tag: "users", summary: "Change a user's plan, role or disabled state",
    body: userPatchBody,
    success: { status: 200, description: "The user as changed.", schema: userView },
    problems: [problems.notFound, problems.conflict],
    handle: async (accounts, { params, body }) => ok(viewUser(await patchUser(accounts, params["id"]!, body))),
  }),

  route({
    method: "GET", path: "/keys", tag: "keys", summary: "List API keys, newest first",
    query: keyListQuery,
    success: { status: 200, description: "One page; `nextOffset` when more follow.", schema: keyPage },
    problems: [],
    handle: async (accounts, { query }) => {
      const limit = query.limit ?? DEFAULT_LIST_SIZE;
      const offset = query.offset ?? 0;
      // One more than a page: whether another follows.
      const keys = await accounts.apiKeys.list({ userId: query.userId, includeRevoked: query.includeRevoked, limit: limit + 1, offset });
      return ok({ items: keys.slice(0, limit).map(viewKey), ...(keys.length > limit && { nextOffset: offset + limit }) });
    },
  }),
  route({
    method: "POST", path: "/keys", tag: "keys", summary: "Create an API key for a user",
    body: newKeyBody,
    success: { status: 201, description: "The key, shown this once, and its record.", schema: newKey },
    problems: [],
    handle: async (accounts, { body }) => {
      if ((await accounts.users.findById(body.userId)) === undefined) throw badInput([{ name: "userId", reason: "no such user" }]);
      if (body.plan != null && (await accounts.plans.get(body.plan)) === undefined) throw badInput([{ name: "plan", reason: `no plan named "${body.plan}"` }]);
      const { key, record } = await accounts.apiKeys.create(body.userId, {
        name: body.name, scopes: body.scopes, plan: body.plan, expiresAt: body.expiresAt == null ? body.expiresAt : new Date(body.expiresAt),
      });
      return created({ key, record: viewKey(record) });
    },
  }),
  route({
    method: "GET", path: "/keys/:id", tag: "keys", summary: "One API key's record",
    success: { status: 200, description: "The record (never the key).", schema: keyView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => {
      const record = await accounts.apiKeys.get(params["id"]!);
      if (record === undefined) throw notFound(`API key with id "${params["id"]}"`);
      return ok(viewKey(record));
    },
  }),
  route({
    method: "POST", path: "/keys/:id/revoke", tag: "keys", summary: "Revoke an API key (at once, on every instance)",
    success: { status: 200, description: "The record, revoked; revoking again keeps the first time.", schema: keyView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => {
      const record = await accounts.apiKeys.revoke(params["id"]!);
      if (record === undefined) throw notFound(`API key with id "${params["id"]}"`);
      return ok(viewKey(record));
    },
  }),
  route({
    method: "POST", path: "/keys/:id/rotate", tag: "keys", summary: "Replace an API key with a new one; the old one works for a grace period",
    body: rotateBody, bodyOptional: true,
    success: { status: 201, description: "The new key, shown this once, its record, and the old key's record.", schema: rotatedKey },
    problems: [problems.notFound, problems.conflict],
    handle: async (accounts, { params, body }) => {
      const id = params["id"]!;
      const rotated = await accounts.apiKeys.rotate(id, (body.graceSeconds ?? 0) * 1000);
      if (rotated === undefined) {
        if ((await accounts.apiKeys.get(id)) === undefined) throw notFound(`API key with id "${id}"`);
        throw new AdminProblem(problems.conflict, "The key is revoked, expired or already replaced.");
      }
      return created({ key: rotated.key, record: viewKey(rotated.record), replaced: viewKey(rotated.replaced) });
    },
  }),

  route({
    method: "GET", path: "/plans", tag: "plans", summary: "List plans, by name",
    success: { status: 200, description: "Every plan.", schema: planList },
    problems: [],
    handle: async (accounts) => ok({ items: (await accounts.plans.list()).map(viewPlan) }),
  }),
  route({
    method: "GET", path: "/plans/:name", tag: "plans", summary: "One plan",
    success: { status: 200, description: "The plan.", schema: planView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => {
      const plan = await accounts.plans.get(params["name"]!);
      if (plan === undefined) throw notFound(`plan named "${params["name"]}"`);
      return ok(viewPlan(plan));
    },
  }),
  route({
    method: "PUT", path: "/plans/:name", tag: "plans", summary: "Create or replace a plan; its users meet the new limits on their next request",
    body: planBody,
    success: { status: 200, description: "The plan as stored (201 when it is new).", schema: planView },
    problems: [],
    handle: async (accounts, { params, rawBody }) => {
      const name = params["name"]!;
      const existed = (await accounts.plans.get(name)) !== undefined;
      // Stored as written (durations stay "30s"), so the raw body, which the schema has accepted.
      const plan = await accounts.plans.set(name, rawBody as { description?: string; limits: Record<string, LimitInput> });
      return { status: existed ? 200 : 201, body: viewPlan(plan) };
    },
  }),
  route({
    method: "DELETE", path: "/plans/:name", tag: "plans", summary: "Remove a plan no user or key is on",
    success: { status: 204, description: "Removed." },
    problems: [problems.notFound, problems.conflict],
    handle: async (accounts, { params }) => {
      if (!(await accounts.plans.remove(params["name"]!))) throw notFound(`plan named "${params["name"]}"`);
      return { status: 204 };
    },
  }),

  route({
    method: "GET", path: "/service-tokens", tag: "service tokens", summary: "List the rate-limit service's tokens, newest first",
    query: serviceTokenListQuery,
    success: { status: 200, description: "Every token (never the token itself).", schema: serviceTokenList },
    problems: [],
    handle: async (accounts, { query }) => ok({ items: (await serviceTokenRepository(accounts.db, { now: accounts.now }).list(query)).map(viewServiceToken) }),
  }),
  route({
    method: "POST", path: "/service-tokens", tag: "service tokens", summary: "Create a token for an application to call POST /v1/ratelimit",
    body: newServiceTokenBody,
    success: { status: 201, description: "The token, shown this once, and its record.", schema: newServiceToken },
    problems: [],
    handle: async (accounts, { body }) => {
      const { token, record } = await serviceTokenRepository(accounts.db, { now: accounts.now }).create({
        name: body.name, rights: body.rights ?? ["decide"], scope: body.scope ?? null, expiresAt: body.expiresAt == null ? null : new Date(body.expiresAt),
      });
      return created({ token, record: viewServiceToken(record) });
    },
  }),
  route({
    method: "GET", path: "/service-tokens/:id", tag: "service tokens", summary: "One service token's record",
    success: { status: 200, description: "The record (never the token).", schema: serviceTokenView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => {
      const record = await serviceTokenRepository(accounts.db).get(params["id"]!);
      if (record === undefined) throw notFound(`service token with id "${params["id"]}"`);
      return ok(viewServiceToken(record));
    },
  }),
  route({
    method: "POST", path: "/service-tokens/:id/revoke", tag: "service tokens", summary: "Revoke a service token (at once, on every instance)",
    success: { status: 200, description: "The record, revoked; revoking again keeps the first time.", schema: serviceTokenView },
    problems: [problems.notFound],
    handle: async (accounts, { params }) => {
      const record = await serviceTokenRepository(accounts.db, { now: accounts.now }).revoke(params["id"]!);
      if (record === undefined) throw notFound(`service token with id "${params["id"]}"`);
      return ok(viewServiceToken(record));
    },
  }),
];

/**
 * Registers the admin API under /admin/api: callers are checked first (401 nobody, 403 not an
 * admin or a cross-site cookie request), then the query and body, then the handler runs.
 */
export async function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  const { accounts, adminToken } = deps;
  await app.register(function adminApi(admin, _options, done) {
    // onRequest: before the body is read, so strangers cannot make Sluice parse anything.
    admin.addHook("onRequest", async function requireAdminCaller(request, reply) {
      if ((await requireAdmin(request, reply, accounts, adminToken)) === undefined) return reply;
    });
    for (const spec of ADMIN_ROUTES) {
      admin.route({
        method: spec.method,
        url: spec.path,
        ...(spec.body !== undefined && takesBody(ADMIN_BODY_LIMIT)),
        handler: async function adminRoute(request: FastifyRequest, reply: FastifyReply) {
          try {
            const input = { params: request.params as Record<string, string>, query: request.query, body: request.body };
            const answer = await spec.handle(accounts, input);
            reply.code(answer.status).header("cache-control", "no-store");
            return answer.body === undefined ? reply.send() : reply.send(answer.body);
          } catch (error) {
            const problem = accountsProblem(error);
            if (problem !== undefined) {
              return replyProblem(reply, problem.kind, problem.detail, problem.invalidParams && { invalidParams: problem.invalidParams });
            }
            if (error instanceof PasswordHashingBusy) return replyProblem(reply.header("retry-after", "1"), problems.busy, error.message);
            throw error;
          }
        },
      });
    }
    done();
  }, { prefix: ADMIN_API_PREFIX });
}

// ─── OpenAPI ────────────────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;

/** Security schemes the admin operations name; merged into the document's components. */
export const ADMIN_SECURITY_SCHEMES = {
  adminToken: { type: "http", scheme: "bearer", description: "The operator's SLUICE_ADMIN_TOKEN." },
  session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "An admin's dashboard session (POST /auth/login sets it)." },
} as const;


const problemContent = { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } };

function operation(spec: AdminRoute): Json {
  const pathParameters = [...spec.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
  const query = spec.query === undefined ? undefined : openApiSchema(spec.query);
  const required = new Set((query?.["required"] as string[] | undefined) ?? []);
  const queryParameters = Object.entries((query?.["properties"] as Record<string, Json> | undefined) ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: required.has(name), ...(description !== undefined && { description }), schema: rest };
  });
  const responses: Record<string, Json> = {
    [String(spec.success.status)]: {
      description: spec.success.description,
      ...(spec.success.schema !== undefined && { content: { "application/json": { schema: openApiSchema(spec.success.schema) } } }),
    },
  };
  const kinds = [problems.badRequest, problems.notSignedIn, problems.forbidden, problems.crossSite, ...spec.problems];
  for (const kind of kinds) {
    const status = String(kind.status);
    const earlier = responses[status];
    responses[status] = { description: earlier === undefined ? kind.title : `${String(earlier["description"])}; ${kind.title}`, content: problemContent };
  }
  return {
    tags: [`admin: ${spec.tag}`],
    summary: spec.summary,
    security: [{ adminToken: [] }, { session: [] }],
    ...(pathParameters.length + queryParameters.length > 0 && { parameters: [...pathParameters, ...queryParameters] }),
    ...(spec.body !== undefined && { requestBody: { required: spec.bodyOptional !== true, content: { "application/json": { schema: openApiSchema(spec.body) } } } }),
    responses,
  };
}

/** Every admin endpoint as an OpenAPI 3.1 `paths` fragment (problems refer to `#/components/schemas/Problem`). */
export const ADMIN_OPENAPI_PATHS: Readonly<Record<string, Json>> = (() => {
  const paths: Record<string, Json> = {};
  for (const spec of ADMIN_ROUTES) {
    const path = ADMIN_API_PREFIX + spec.path.replace(/:(\w+)/g, "{$1}");
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: operation(spec) };
  }
  return paths;
})();

/** The admin API's part of /openapi.json. */
export const ADMIN_OPENAPI: OpenApiSection = {
  tags: [
    { name: "admin: users", description: "Accounts: list, create, change plan or role, disable. Admin token or an admin's session." },
    { name: "admin: keys", description: "Every user's API keys: create, revoke, rotate." },
    { name: "admin: plans", description: "Plans and their limits." },
    { name: "admin: service tokens", description: "Tokens applications send to the rate-limit service (POST /v1/ratelimit)." },
  ],
  paths: ADMIN_OPENAPI_PATHS,
  securitySchemes: ADMIN_SECURITY_SCHEMES,
};
