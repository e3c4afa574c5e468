/**
 * The control plane: everything on the gateway's port that is not /api/* — health, readiness,
 * Prometheus metrics (statusRoutes.ts), the OpenAPI document and its interactive docs, and the
 * pages behind problem `type` URIs.
 * It runs on Fastify, off the proxy's hot path (the gateway handler never enters Fastify).
 */
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import type { TrustFunction } from "../edge/clientAddress.js";
import type { Readiness } from "../lifecycle/readiness.js";
import type { RouteTable } from "../gateway/routeTable.js";
import type { SluiceMetrics } from "../observability/metrics.js";
import { problemsBySlug } from "../problems/catalogue.js";
import { replyProblem, useProblemResponses } from "../problems/fastifyProblems.js";
import { problems } from "../problems/catalogue.js";
import type { Accounts } from "../accounts/accounts.js";
import { registerDashboard } from "../dashboard/dashboard.js";
import type { RateLimitStore } from "../stores/store.js";
import { registerAdminLiveRoutes } from "./adminLiveRoutes.js";
import { limitState } from "./limitState.js";
import type { UsageRecorder } from "../usage/usageRecorder.js";
import { usageRepository } from "../usage/usageRepository.js";
import { registerUsageRoutes } from "./usageRoutes.js";
import type { PlanLimits } from "../accounts/planLimits.js";
import { registerAccountRoutes } from "./accountRoutes.js";
import { registerAdminApi } from "./adminApi.js";
import type { ApiDocs } from "./apiDocs.js";
import { registerAuthRoutes } from "./authRoutes.js";
import { addDocsViewport, DOCS_THEME, DOCS_URLS } from "./docs/docsTheme.js";
import { DOC_PARTS, splitDocument } from "./docs/splitDocument.js";
import { registerPasswordResetRoutes } from "./passwordResetRoutes.js";
import { currentUser, isAdminToken } from "./sessionAuth.js";
import { registerStatusRoutes } from "./statusRoutes.js";
import { refuseUnreadBodies } from "./requestBodies.js";
import { refuseUnstorableText } from "./storableText.js";

export interface ControlPlaneDeps {
  /** The live route table (lifecycle/liveRouteTable.ts): read at each request, so it follows reloads. */
  readonly table: RouteTable;
  readonly docs: ApiDocs;
  /** Served at /metrics on this port; no such route when undefined (the status listener serves them). */
  readonly metrics?: SluiceMetrics | undefined;
  /** Users, keys and plans: the account routes and the admin API exist only with them. */
  readonly accounts?: Accounts | undefined;
  /** Where the login throttle counts failures: the limiter's own store. */
  readonly limiterStore?: RateLimitStore | undefined;
  /** SLUICE_ADMIN_TOKEN, accepted by the admin API. */
  readonly adminToken?: string | undefined;
  /** server.trustedProxies, compiled: the login throttle counts the client behind them. */
  readonly trust?: TrustFunction | undefined;
  /** server.ipv6Prefix: the login throttle counts IPv6 clients by it, as the gateway does. */
  readonly ipv6Prefix?: number | undefined;
  /** The gateway's usage recorder, flushed before a usage page reads (src/usage/). */
  readonly usage?: UsageRecorder | undefined;
  /** The plans' compiled limits, for the live state of a consumer's limits. */
  readonly plans?: PlanLimits | undefined;
  /** What /readyz reports: shutdown, the services' health, the limiter store, the database. */
  readonly readiness: Readiness;
}

export async function registerControlPlane(app: FastifyInstance, deps: ControlPlaneDeps): Promise<void> {
  useProblemResponses(app);
  // Before every route: a body is read only by a route that takes one (requestBodies.ts), and no
  // text reaches a handler that the database cannot keep (storableText.ts).
  refuseUnreadBodies(app);
  refuseUnstorableText(app);

  // Readiness details name services and reasons: for the admin token only, on this port.
  registerStatusRoutes(app, { readiness: deps.readiness, metrics: deps.metrics, details: (request) => isAdminToken(request, deps.adminToken) });

  const { accounts, limiterStore } = deps;
  if (accounts !== undefined && limiterStore !== undefined) {
    await app.register(cookie);
    await registerAuthRoutes(app, { accounts, limiterStore, trust: deps.trust, ipv6Prefix: deps.ipv6Prefix });
    await registerAccountRoutes(app, { accounts, serviceNames: () => deps.table.keys() });
    await registerAdminApi(app, { accounts, adminToken: deps.adminToken });
    await registerPasswordResetRoutes(app, { accounts, adminToken: deps.adminToken });
    const limits = limitState({ store: limiterStore, table: deps.table, plans: deps.plans, ipv6Prefix: deps.ipv6Prefix ?? 64 });
    await registerUsageRoutes(app, { accounts, usage: usageRepository(accounts.db), recorder: deps.usage, limits, onError: (error) => app.log.warn({ err: error }, "could not write usage counts before a read") });
    await registerAdminLiveRoutes(app, { accounts, adminToken: deps.adminToken, store: limiterStore, limits, table: deps.table, probeUpstreams: () => probeUpstreams(deps.table) });
  }

  app.get("/openapi.json", () => deps.docs.fresh());
  // /docs offers the consumer's and the admin's APIs apart (docs/splitDocument.ts).
  for (const part of DOC_PARTS) app.get(`/openapi/${part}.json`, async () => splitDocument(await deps.docs.fresh(), part));

  await app.register(swagger, { mode: "static", specification: { document: { openapi: "3.1.0", info: { title: "Sluice", version: "0" }, paths: {} } } });
  addDocsViewport(app);
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    theme: DOCS_THEME,
    uiConfig: { persistAuthorization: true, tryItOutEnabled: true, displayRequestDuration: true, urls: DOCS_URLS },
    transformSpecificationClone: false,
    transformSpecification: () => splitDocument(deps.docs.current, "consumer"),
  });

  await registerDashboard(app, {
    serviceNames: () => deps.table.keys(),
    withAccounts: accounts !== undefined && limiterStore !== undefined,
    signedIn: async (request) => accounts !== undefined && (await currentUser(request, accounts)) !== undefined,
  });

  app.get<{ Params: { slug: string } }>("/problems/:slug", (request, reply) => {
    const kind = problemsBySlug.get(request.params.slug);
    if (kind === undefined) return replyProblem(reply, problems.notFound, `No problem type "${request.params.slug}".`);
    return reply.type("text/html; charset=utf-8").send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>${kind.title}</title>` +
      `<h1>${kind.status} ${kind.title}</h1><p><code>${kind.code}</code></p><p>${kind.help}</p></html>`,
    );
  });
}

/**
 * For the admin's services view, asked now: a service is reachable when one of its targets
 * answers HTTP at all within a second, whatever the status (the balancer can route around the
 * others). Readiness does not ask (lifecycle/readiness.ts): it reads the health checks' state.
 */
async function probeUpstreams(table: RouteTable): Promise<Record<string, "reachable" | "unreachable">> {
  const entries = await Promise.all([...table.values()].map(async (service) => {
    const answers = await Promise.all(service.targets.map(async (target) => {
      try {
        const { body } = await target.pool.request({ path: service.basePath + "/", method: "GET", headersTimeout: 1_000, bodyTimeout: 1_000 });
        await body.dump();
        return true;
      } catch {
        return false;
      }
    }));
    return [service.name, answers.includes(true) ? "reachable" : "unreachable"] as const;
  }));
  return Object.fromEntries(entries);
}
