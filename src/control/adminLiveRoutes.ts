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
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import type { Consumer } from "../accounts/consumer.js";
import { invalidParams, type InvalidParam } from "../config/invalidParams.js";
import { jsonRequestBody, jsonResponse, problemResponse, replyInvalid, SMALL_BODY_LIMIT } from "./parseBody.js";
import { takesBody } from "./requestBodies.js";
import { requireAdmin } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";
import type { RouteTable } from "../gateway/routeTable.js";
import { redactUrl } from "../observability/redactUrl.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import type { RateLimitStore } from "../stores/store.js";
import type { LimitStateReader } from "./limitState.js";
import { limitStateView } from "./usageRoutes.js";

export interface AdminLiveRoutesDeps {
  readonly accounts: Accounts;
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

/** Thrown by a lookup that answers with a problem instead. */
class Refusal extends Error {
  constructor(readonly status: 400 | 404, detail: string, readonly params?: readonly InvalidParam[]) {
    super(detail);
  }
}

export async function registerAdminLiveRoutes(app: FastifyInstance, deps: AdminLiveRoutesDeps): Promise<void> {
  const { accounts, adminToken, store, limits, table } = deps;

  const inspect = async (subject: { keyId?: string | undefined; userId?: string | undefined; ip?: string | undefined }): Promise<Inspection> => {
    if (subject.ip !== undefined) return { subject: { kind: "ip", id: subject.ip, label: subject.ip }, limits: await limits.ofAddress(subject.ip) };
    if (subject.keyId !== undefined) {
      const key = await keyNamed(subject.keyId);
      const owner = key && await accounts.users.findById(key.userId);
      if (key === undefined || owner === undefined) throw new Refusal(404, `No API key "${subject.keyId}".`);
      const consumer: Consumer = { id: `user:${owner.id}`, plan: key.plan ?? owner.plan, keyId: key.id, ...(key.scopes !== null && { scopes: key.scopes }) };
      return { subject: { kind: "key", id: key.id, label: `${key.name} (${key.start}…) of ${owner.email}` }, limits: await limits.ofConsumer(consumer) };
    }
    const user = await accounts.users.findById(subject.userId!);
    if (user === undefined) throw new Refusal(404, `No user with id "${subject.userId}".`);
    return { subject: { kind: "user", id: user.id, label: user.email }, limits: await limits.ofConsumer({ id: `user:${user.id}`, plan: user.plan }) };
  };

  /** The key with this id, or the one key with this start (the pages show starts, not ids). */
  const keyNamed = async (idOrStart: string) => {
    if (!idOrStart.startsWith("sk_")) return accounts.apiKeys.get(idOrStart);
    const found = await accounts.apiKeys.findByStart(idOrStart, 2);
    if (found.length > 1) throw new Refusal(400, "invalid", [{ name: "keyId", reason: `more than one key starts ${idOrStart}; give the key's id` }]);
    return found[0];
  };

  const send = async (reply: FastifyReply, work: () => Promise<unknown>) => {
    try {
      return reply.header("cache-control", "no-store").send(await work());
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      if (error.status === 404) return replyProblem(reply, problems.notFound, error.message);
      return replyInvalid(reply, error.params ?? []);
    }
  };

  const parsed = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => {
    const result = schema.safeParse(value ?? {});
    if (!result.success) throw new Refusal(400, "invalid", invalidParams(result.error));
    return result.data;
  };

  await app.register(function adminLiveRoutes(admin, _options, done) {
    // Before any body is read, as the admin API does.
    admin.addHook("onRequest", async function requireAdminCaller(request: FastifyRequest, reply: FastifyReply) {
      if ((await requireAdmin(request, reply, accounts, adminToken)) === undefined) return reply;
    });

    admin.get("/limits", (request, reply) => send(reply, () => inspect(parsed(limitsQuery, request.query))));

    admin.post("/limits/reset", takesBody(SMALL_BODY_LIMIT), (request, reply) => send(reply, async () => {
      const { counter, ...subject } = parsed(resetBody, request.body);
      const before = await inspect(subject);
      if (!before.limits.some((l) => l.counter === counter)) {
        throw new Refusal(400, "invalid", [{ name: "counter", reason: "not one of this subject's counters" }]);
      }
      await store.reset(counter);
      return inspect(subject);
    }));

    admin.get("/services", (_request, reply) => send(reply, async () => {
      const health = await deps.probeUpstreams();
      return {
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
      };
    }));
    done();
  }, { prefix: "/admin/api" });
}

const adminSecurity = [{ adminToken: [] }, { session: [] }];
const adminProblems = {
  "401": problemResponse("Nobody signed in, and no admin token."),
  "403": problemResponse("Not an admin, or a cookie-authenticated change from another origin."),
};
const subjectParameters = Object.entries(subjectFields).map(([name, schema]) => ({
  name, in: "query", required: false, description: schema.meta()?.description, schema: { type: "string", ...(name !== "ip" && { format: "uuid" }) },
}));

/** The inspector and the services view in /openapi.json, under the admin API's tags. */
export const ADMIN_LIVE_OPENAPI: OpenApiSection = {
  tags: [
    { name: "admin: limits", description: "The live state of any key's, user's or address's limits, and resetting one." },
    { name: "admin: services", description: "Services, their routes and limits, and their upstreams' health." },
  ],
  paths: {
    "/admin/api/limits": {
      get: {
        tags: ["admin: limits"],
        summary: "Every counter of an API key, a user's signed-in calls or a client address, as it stands (nothing spent)",
        security: adminSecurity,
        parameters: subjectParameters,
        responses: { "200": jsonResponse("The subject and its counters.", inspection), "400": problemResponse("Not exactly one of keyId, userId and ip, or a malformed one."), ...adminProblems, "404": problemResponse("No such key or user.") },
      },
    },
    "/admin/api/limits/reset": {
      post: {
        tags: ["admin: limits"],
        summary: "Forget one of the subject's counters: its limit is whole again at once",
        security: adminSecurity,
        requestBody: jsonRequestBody(resetBody),
        responses: { "200": jsonResponse("The subject's counters after the reset.", inspection), "400": problemResponse("A field is invalid, or the counter is not the subject's."), ...adminProblems, "404": problemResponse("No such key or user.") },
      },
    },
    "/admin/api/services": {
      get: {
        tags: ["admin: services"],
        summary: "Each service with its routes, limits and upstream health now",
        security: adminSecurity,
        responses: { "200": jsonResponse("The services.", serviceList), ...adminProblems },
      },
    },
  },
  securitySchemes: {},
};
