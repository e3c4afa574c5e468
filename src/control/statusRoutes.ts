/**
 * What load balancers and operators ask: liveness (/healthz), readiness (/readyz) and the
 * Prometheus metrics (/metrics). Readiness details and metrics name the services, their limits
 * and their upstreams' addresses, which the public must not learn (docs/security.md), so:
 *
 * - On the public port, /readyz says its status only (`{"status":"ready"}`, and 503 when not);
 *   the reasons, each service's state, the store's and the database's come with the admin token
 *   (`Authorization: Bearer <SLUICE_ADMIN_TOKEN>`). /metrics is served there only while no status
 *   listener is configured (a start-up warning says so when the port is not on loopback).
 * - The status listener (`server.statusPort`, on `server.statusHost`: loopback unless told
 *   otherwise) serves all three, readiness with its details, for whoever can reach it. On a
 *   loopback address it answers only this machine's names, as the public port does by default
 *   (edge/publicHosts.ts): a DNS-rebinding page cannot read it from the developer's browser.
 *
 * @example
 * registerStatusRoutes(app, { readiness, metrics, details: (request) => isAdminToken(request, token) });
 * const status = await startStatusListener(config.server, { readiness, metrics }, logger);
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import type { SluiceConfig } from "../config/schema.js";
import { answerClientError } from "../edge/clientErrors.js";
import { createEdgeServer } from "../edge/edgeServer.js";
import { publicHostCheck, refusedHost } from "../edge/publicHosts.js";
import type { Readiness, ReadinessReport } from "../lifecycle/readiness.js";
import type { SluiceMetrics } from "../observability/metrics.js";
import { useProblemResponses } from "../problems/fastifyProblems.js";
import { ok, registerRoutes, routeFor } from "./defineRoute.js";
import { refuseUnreadBodies } from "./requestBodies.js";

export interface StatusRoutesDeps {
  readonly readiness: Readiness;
  /** Served at /metrics; no such route when undefined. */
  readonly metrics?: SluiceMetrics | undefined;
  /** Whether `request` may read readiness details (the public port: the admin token). */
  readonly details: (request: FastifyRequest) => boolean;
}

const route = routeFor<StatusRoutesDeps>();
const readiness = z.object({ status: z.string() }).catchall(z.unknown())
  .meta({ description: "`{\"status\":\"ready\"}`; with the admin token, or on the status listener, also the reasons and each part's state." });

/** Liveness and readiness, as load balancers ask; public (`security: []`). */
export const STATUS_ROUTES = [
  route({
    method: "GET", url: "/healthz", operationId: "getLiveness", auth: "none", tags: ["gateway"],
    summary: "Liveness: the process is up",
    responses: { 200: { description: "Up.", schema: z.object({ status: z.literal("ok") }) } },
    handle: () => ok({ status: "ok" as const }),
  }),
  route({
    method: "GET", url: "/readyz", operationId: "getReadiness", auth: "none", tags: ["gateway"],
    summary: "Readiness: config loaded, services healthy, stores reachable",
    description: "Answers its status only; the reasons and each part's state come with the admin token (Authorization: Bearer), or on the status listener (server.statusPort).",
    responses: { 200: { description: "Ready.", schema: readiness }, 503: { description: "Not ready, or shutting down.", schema: readiness } },
    handle: async ({ deps, request }) => {
      const report = await deps.readiness.check();
      const body = deps.details(request) ? readinessDetails(report) : { status: report.status };
      return report.ready ? ok(body) : { status: 503 as const, body };
    },
  }),
];

export function registerStatusRoutes(app: FastifyInstance, deps: StatusRoutesDeps): void {
  registerRoutes(app, STATUS_ROUTES, deps);

  // Prometheus text, for scrapers: not an operation of the JSON API, so not in the document.
  const { metrics } = deps;
  if (metrics !== undefined) {
    app.get("/metrics", async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
}

/** The whole report, as operators read it. */
function readinessDetails(report: ReadinessReport): { readonly status: string; readonly [part: string]: unknown } {
  return {
    status: report.status,
    ...(!report.ready && { reasons: report.reasons }),
    config: "loaded",
    ...(report.services !== undefined && { services: report.services }),
    ...(report.limiterStore !== undefined && { limiterStore: report.limiterStore }),
    ...(report.database !== undefined && { database: report.database }),
  };
}

export interface StatusListener {
  /** e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

export type StatusListenerSettings = Pick<SluiceConfig["server"], "statusHost" | "headersTimeout" | "requestTimeout" | "idleTimeout" | "keepAliveTimeout" | "maxHeaderSize" | "maxConnections"> & { readonly statusPort: number };

/** Starts the status listener: /healthz, /readyz with its details, /metrics, on `statusHost:statusPort`. */
export async function startStatusListener(settings: StatusListenerSettings, deps: Omit<StatusRoutesDeps, "details">, logger: FastifyBaseLogger): Promise<StatusListener> {
  // The public port's rule for its own address: no proxy stands in front of this listener, and
  // server.publicHosts names the public port's names, not the ones a scraper uses here.
  const acceptsHost = publicHostCheck({ host: settings.statusHost, publicHosts: undefined, trustedProxies: undefined });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
    // The public port's limits on size and time hold here too.
    serverFactory: (handler) => createEdgeServer(settings, (req: IncomingMessage, res: ServerResponse) => {
      if (!refusedHost(acceptsHost, req, res, "server.statusHost")) handler(req, res);
    }),
  });
  useProblemResponses(app);
  refuseUnreadBodies(app);
  registerStatusRoutes(app, { ...deps, details: () => true });
  try {
    await app.listen({ host: settings.statusHost, port: settings.statusPort });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : settings.statusPort;
  const host = settings.statusHost.includes(":") ? `[${settings.statusHost}]` : settings.statusHost;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
