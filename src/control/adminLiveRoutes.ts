/**
 * The admin's live views, beside the admin API (adminApi.ts) under /admin/api and behind the same
 * check (an admin's session or the operator's token; 403 for anyone else):
 *
 * - `GET /admin/api/limits?keyId=…|userId=…|ip=…`: the limit inspector. Every counter that
 *   applies to an API key, a user's signed-in calls, or a client address, as it stands now
 *   (limitState.ts: peeked at cost 0, nothing spent).
 * - `POST /admin/api/limits/reset {keyId|userId|ip, counter}`: forgets one of those counters
 *   (`RateLimitStore.reset`); only a counter the subject's inspection lists, so the endpoint
 *   cannot be pointed at arbitrary store keys.
 * - `GET /admin/api/services`: each service, its routes and limits, and whether its upstream
 *   answers HTTP now (asked for an admin only; readiness reads the health checks' state instead).
 *
 * @example
 * curl -H "Authorization: Bearer $SLUICE_ADMIN_TOKEN" 'http://127.0.0.1:8080/admin/api/limits?ip=203.0.113.9'
 */
import { isIP } from "node:net";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import type { Consumer } from "../accounts/consumer.js";
import { ok, registerRoutes, routeFor } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import type { OpenApiSection } from "./openapi.js";
import type { RouteTable } from "../gateway/routeTable.js";
import { redactUrl } from "../observability/redactUrl.js";
import { problems } from "../problems/catalogue.js";
import { ProblemError } from "../problems/problemError.js";
import type { RateLimitStore } from "../stores/store.js";
import type { LimitStateReader } from "./limitState.js";
import { limitStateView } from "./usageRoutes.js";

export interface AdminLiveRoutesDeps {
  readonly accounts: Accounts;
  /** SLUICE_ADMIN_TOKEN, accepted besides an admin's session. */
  readonly adminToken: string | undefined;
  readonly store: RateLimitStore;
  readonly limits: LimitStateReader;
  readonly table: RouteTable;
  /** Each service's upstream, reachable or not now (controlPlane.ts asks each target). */
  readonly probeUpstreams: () => Promise<Record<string, "reachable" | "unreachable">>;
}

const subjectFields = {
  keyId: z.string().trim().transform((text) => text.replace(/…$|\.\.\.$/, "")).pipe(z.union([z.uuid(), z.string().regex(/^sk_[A-Za-z0-9]{6}$/)], { error: "must be a key's id (a UUID) or its start as the pages show it (sk_ and 6 characters)" }))
    .optional().meta({ description: "An API key: its id, or its start as lists show it (`sk_AbC123`, a trailing … allowed): its consumer's counters." }),
  userId: z.uuid().optional().meta({ description: "A user's id: the counters of their signed-in calls." }),
  ip: z.string().max(64).refine((ip) => isIP(ip) !== 0, "must be an IPv4 or IPv6 address").optional().meta({ description: "A client address: its per-address counters and sign-in and sign-up throttles." }),
};
const exactlyOne = (value: { keyId?: string | undefined; userId?: string | undefined; ip?: string | undefined }) =>
  [value.keyId, value.userId, value.ip].filter((v) => v !== undefined).length === 1;
const ONE_SUBJECT = "give exactly one of keyId, userId and ip";

export const limitsQuery = z.strictObject(subjectFields).refine(exactlyOne, { message: ONE_SUBJECT, path: [] });
export const resetBody = z.strictObject({ ...subjectFields, counter: z.string().min(1).max(1024) }).refine(exactlyOne, { message: ONE_SUBJECT, path: [] });

const inspection = z.object({
  subject: z.object({ kind: z.enum(["key", "user", "ip"]), id: z.string(), label: z.string() }),
  limits: z.array(limitStateView),
});
type Inspection = z.infer<typeof inspection>;

const serviceList = z.object({
  items: z.array(z.object({
    name: z.string(),
    upstream: z.string().meta({ description: "The upstream URL (a password in it masked)." }),
    health: z.enum(["reachable", "unreachable"]).meta({ description: "Whether the upstream answered HTTP within a second just now." }),
    timeoutMs: z.number(),
    routes: z.array(z.object({ path: z.string(), methods: z.array(z.string()).nullable(), cost: z.number(), limits: z.array(z.string()) })),
  })),
});

type Subject = { keyId?: string | undefined; userId?: string | undefined; ip?: string | undefined };

/** Every counter that applies to the subject now; 404 for a key or user that does not exist. */
async function inspect({ accounts, limits }: AdminLiveRoutesDeps, subject: Subject): Promise<Inspection> {
  if (subject.ip !== undefined) return { subject: { kind: "ip", id: subject.ip, label: subject.ip }, limits: await limits.ofAddress(subject.ip) };
  if (subject.keyId !== undefined) {
    const key = await keyNamed(accounts, subject.keyId);
    const owner = key && await accounts.users.findById(key.userId);
    if (key === undefined || owner === undefined) throw new ProblemError(problems.notFound, `No API key "${subject.keyId}".`);
    const consumer: Consumer = { id: `user:${owner.id}`, plan: key.plan ?? owner.plan, keyId: key.id, ...(key.scopes !== null && { scopes: key.scopes }) };
    return { subject: { kind: "key", id: key.id, label: `${key.name} (${key.start}…) of ${owner.email}` }, limits: await limits.ofConsumer(consumer) };
  }
  const user = await accounts.users.findById(subject.userId!);
  if (user === undefined) throw new ProblemError(problems.notFound, `No user with id "${subject.userId}".`);
  return { subject: { kind: "user", id: user.id, label: user.email }, limits: await limits.ofConsumer({ id: `user:${user.id}`, plan: user.plan }) };
}

/** The key with this id, or the one key with this start (the pages show starts, not ids). */
async function keyNamed(accounts: Accounts, idOrStart: string) {
  if (!idOrStart.startsWith("sk_")) return accounts.apiKeys.get(idOrStart);
  const found = await accounts.apiKeys.findByStart(idOrStart, 2);
  if (found.length > 1) throw ProblemError.invalid([{ name: "keyId", reason: `more than one key starts ${idOrStart}; give the key's id` }], "query");
  return found[0];
}

const route = routeFor<AdminLiveRoutesDeps>();

/** The inspector and the services view, behind the admin API's check (before any body is read). */
export const ADMIN_LIVE_ROUTES = [
  route({
    method: "GET", url: "/admin/api/limits", operationId: "adminInspectLimits", auth: "admin", tags: ["admin: limits"],
    summary: "Every counter of an API key, a user's signed-in calls or a client address, as it stands (nothing spent)",
    query: limitsQuery,
    responses: { 200: { description: "The subject and its counters.", schema: inspection } },
    problems: { 400: "Not exactly one of keyId, userId and ip, or a malformed one.", 404: "No such key or user." },
    handle: async ({ deps, query }) => ok(await inspect(deps, query)),
  }),
  route({
    method: "POST", url: "/admin/api/limits/reset", operationId: "adminResetLimit", auth: "admin", tags: ["admin: limits"],
    summary: "Forget one of the subject's counters: its limit is whole again at once",
    body: resetBody,
    responses: { 200: { description: "The subject's counters after the reset.", schema: inspection } },
    problems: { 400: "A field is invalid, or the counter is not the subject's.", 404: "No such key or user." },
    handle: async ({ deps, body: { counter, ...subject } }) => {
      const before = await inspect(deps, subject);
      if (!before.limits.some((l) => l.counter === counter)) {
        throw ProblemError.invalid([{ name: "counter", reason: "not one of this subject's counters" }], "request body");
      }
      await deps.store.reset(counter);
      return ok(await inspect(deps, subject));
    },
  }),
  route({
    method: "GET", url: "/admin/api/services", operationId: "adminListServices", auth: "admin", tags: ["admin: services"],
    summary: "Each service with its routes, limits and upstream health now",
    responses: { 200: { description: "The services.", schema: serviceList } },
    handle: async ({ deps: { table, probeUpstreams } }) => {
      const health = await probeUpstreams();
      return ok({
        items: [...table.values()].sort((a, b) => a.name.localeCompare(b.name)).map((service) => ({
          name: service.name,
          upstream: redactUrl(service.upstream.toString()),
          health: health[service.name] ?? "unreachable",
          timeoutMs: service.timeoutMs,
          routes: service.routes.map((route) => ({
            path: route.prefix ? `${route.path}*` : route.path,
            methods: route.methods === undefined ? null : [...route.methods].filter((m) => m !== "HEAD"),
            cost: route.cost,
            limits: route.limits.map((l) => l.policy.name),
          })),
        })),
      });
    },
  }),
];

export function registerAdminLiveRoutes(app: FastifyInstance, deps: AdminLiveRoutesDeps): Promise<void> {
  registerRoutes(app, ADMIN_LIVE_ROUTES, deps);
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** The inspector and the services view in /openapi.json, under the admin API's tags. */
export const ADMIN_LIVE_OPENAPI: OpenApiSection = {
  tags: [
    { name: "admin: limits", description: "The live state of any key's, user's or address's limits, and resetting one." },
    { name: "admin: services", description: "Services, their routes and limits, and their upstreams' health." },
  ],
  paths: openApiPaths(ADMIN_LIVE_ROUTES),
  securitySchemes: {},
};
