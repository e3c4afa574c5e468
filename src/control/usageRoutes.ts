/**
 * A signed-in user's own usage under /account/api/usage, for the dashboard's usage page: all of
 * it (every key's and the session's calls summed), one of their keys, or their session's calls
 * (the playground), the allowed and limited requests
 * per minute over the last hour and per hour over the last week, and the live state of each limit
 * that applies (limitState.ts: peeked, nothing spent).
 *
 * Reads are current: before reading, this instance's recorder writes what it has counted
 * (usageRecorder.ts `flush`); counts from other instances sharing the database arrive with their
 * next flush (10 s). A user sees only their own keys: another user's key id answers 404 like an
 * id that names no key.
 *
 * @example
 * // GET /account/api/usage/keys/6f1c…  →  { subject, minutes: [60 × {at, allowed, limited}], hours: [168 × …], limits: […] }
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import { MAX_LIST_LIMIT } from "../accounts/apiKeys.js";
import type { Consumer } from "../accounts/consumer.js";
import { problems } from "../problems/catalogue.js";
import { ProblemError } from "../problems/problemError.js";
import { ok, registerRoutes, routeFor } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import { signedInUser } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";
import type { LimitStateReader } from "./limitState.js";
import type { UsageRecorder } from "../usage/usageRecorder.js";
import { HOUR_MS, MINUTE_MS, type UsageRepository } from "../usage/usageRepository.js";

export interface UsageRoutesDeps {
  readonly accounts: Accounts;
  readonly usage: UsageRepository;
  /** This instance's recorder: flushed before a read, so the answer includes the latest calls. */
  readonly recorder?: Pick<UsageRecorder, "flush"> | undefined;
  readonly limits: LimitStateReader;
  /** Told of a flush that failed before a read (the read goes on with what is stored). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** Bars per chart: the last hour by minute, the last week by hour. */
export const USAGE_MINUTES = 60;
export const USAGE_HOURS = 7 * 24;

const point = z.object({
  at: z.string().meta({ format: "date-time", description: "The minute's or hour's start." }),
  allowed: z.number().int(),
  limited: z.number().int(),
});

export const limitStateView = z.object({
  counter: z.string().meta({ description: "The limiter store's key for this counter." }),
  name: z.string(),
  algorithm: z.string(),
  limit: z.number(),
  windowSeconds: z.number(),
  source: z.enum(["config", "plan", "sign-in", "sign-up"]),
  services: z.array(z.string()),
  remaining: z.number(),
  resetAt: z.string().meta({ format: "date-time" }),
});

export const usageView = z.object({
  subject: z.object({
    kind: z.enum(["all", "key", "session"]),
    id: z.string().optional(),
    name: z.string().optional(),
    start: z.string().optional(),
  }),
  minutes: z.array(point).meta({ description: `${USAGE_MINUTES} minutes, oldest first, the current one last.` }),
  hours: z.array(point).meta({ description: `${USAGE_HOURS} hours, oldest first, the current one last.` }),
  limits: z.array(limitStateView).meta({ description: "Every limit that applies now, peeked (nothing spent)." }),
});
type UsageView = z.infer<typeof usageView>;

const route = routeFor<UsageRoutesDeps>();
const tags = ["account: usage"];

/** The usage of `usageSubjects` (keys' or a session's counts, summed) and the consumer's limits now. */
async function usageOf(deps: UsageRoutesDeps, subject: UsageView["subject"], usageSubjects: readonly string[], consumer: Consumer): Promise<UsageView> {
  const { accounts, usage, recorder, limits } = deps;
  await recorder?.flush().catch(deps.onError ?? (() => undefined));
  const now = accounts.now();
  const minute = now - (now % MINUTE_MS);
  const hour = now - (now % HOUR_MS);
  const [minutes, hours, state] = await Promise.all([
    usage.series(usageSubjects, { from: minute - (USAGE_MINUTES - 1) * MINUTE_MS, to: minute + MINUTE_MS, stepMs: MINUTE_MS }),
    usage.series(usageSubjects, { from: hour - (USAGE_HOURS - 1) * HOUR_MS, to: hour + HOUR_MS, stepMs: HOUR_MS }),
    limits.ofConsumer(consumer),
  ]);
  const iso = (points: typeof minutes) => points.map((p) => ({ at: new Date(p.at).toISOString(), allowed: p.allowed, limited: p.limited }));
  return { subject, minutes: iso(minutes), hours: iso(hours), limits: state };
}

export const USAGE_ROUTES = [
  route({
    method: "GET", url: "/account/api/usage", operationId: "getOwnUsage", auth: "session", tags,
    summary: "All your calls, your keys' and your signed-in ones together: requests per minute and per hour, and your plan's limits now",
    responses: { 200: { description: "Your usage.", schema: usageView } },
    // Everything the user sent: their signed-in calls and every key's, revoked ones included,
    // summed; the limits are their plan's, which all of it shares.
    handle: async ({ deps, request }) => {
      const user = signedInUser(request);
      const keys = await deps.accounts.apiKeys.list({ userId: user.id, includeRevoked: true, limit: MAX_LIST_LIMIT });
      return ok(await usageOf(deps, { kind: "all" }, [`user:${user.id}`, ...keys.map((key) => `key:${key.id}`)], { id: `user:${user.id}`, plan: user.plan }));
    },
  }),
  route({
    method: "GET", url: "/account/api/usage/keys/:id", operationId: "getOwnKeyUsage", auth: "session", tags,
    summary: "One of your keys: allowed and limited requests per minute (last hour) and per hour (last week), and its limits now",
    params: z.object({ id: z.string().meta({ format: "uuid" }) }),
    responses: { 200: { description: "The key's usage.", schema: usageView } },
    problems: { 404: "You have no key with this id." },
    handle: async ({ deps, params: { id }, request }) => {
      const user = signedInUser(request);
      const key = z.uuid().safeParse(id).success ? await deps.accounts.apiKeys.get(id) : undefined;
      if (key === undefined || key.userId !== user.id) throw new ProblemError(problems.notFound, `You have no key with id "${id}".`);
      const consumer: Consumer = { id: `user:${user.id}`, plan: key.plan ?? user.plan, keyId: key.id, ...(key.scopes !== null && { scopes: key.scopes }) };
      return ok(await usageOf(deps, { kind: "key", id: key.id, name: key.name, start: key.start }, [`key:${key.id}`], consumer));
    },
  }),
  route({
    method: "GET", url: "/account/api/usage/session", operationId: "getOwnSessionUsage", auth: "session", tags,
    summary: "Your signed-in calls (the dashboard's playground): requests per minute and per hour, and your limits now",
    responses: { 200: { description: "Your session's usage.", schema: usageView } },
    handle: async ({ deps, request }) => {
      const user = signedInUser(request);
      return ok(await usageOf(deps, { kind: "session" }, [`user:${user.id}`], { id: `user:${user.id}`, plan: user.plan }));
    },
  }),
];

export function registerUsageRoutes(app: FastifyInstance, deps: UsageRoutesDeps): Promise<void> {
  registerRoutes(app, USAGE_ROUTES, deps);
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** The usage endpoints in /openapi.json. */
export const USAGE_OPENAPI: OpenApiSection = {
  tags: [{ name: "account: usage", description: "Your own requests per minute and per hour, and your limits as they stand, with your session cookie." }],
  paths: openApiPaths(USAGE_ROUTES),
  securitySchemes: {},
};
