/**
 * The rate-limit service over HTTP: `POST /v1/ratelimit` (decide, or read at cost 0) and
 * `POST /v1/ratelimit/reset` (forget a limit's counters), served on the gateway's own port.
 *
 * Like /api/*, these paths are served straight from the node:http dispatcher (src/sluice.ts), not
 * through Fastify: a decision is a small, hot call whose whole work is a few microseconds of
 * limiter, and bench/service.ts measures what the framework would add. So this file does by hand
 * the little Fastify would: method and path, a bounded body read, JSON, problem documents.
 *
 * Order of work: path and method, then overload (503 while the process cannot keep up, before
 * anything is read or counted), then the caller (401 before any body is read, so strangers
 * cannot make Sluice parse anything; 403 without the right), then the body (413 past
 * RATELIMIT_BODY_LIMIT, 400 for bad JSON or a bad field, naming it), then the token's scope (403
 * `out-of-scope` naming the first namespace or policy outside it; tokenScope.ts), then the decision. A client
 * that sent `Expect: 100-continue` is invited to send its body only once its token has passed;
 * a refusal before the body is read closes the connection of a request that declares one.
 * Answers are JSON with `cache-control: no-store`; every refusal is an RFC 9457 problem. A store
 * that cannot be reached answers 503 (ratelimitService.ts); anything unexpected is logged and
 * answers 500, revealing nothing.
 *
 * @example
 * curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
 *   -d '{"identifier":"user-42","limit":100,"duration":"60s"}' http://127.0.0.1:8080/v1/ratelimit
 * // → {"allowed":true,"limit":100,"remaining":99,"reset":1764000060000}
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidParams, type InvalidParam } from "../config/invalidParams.js";
import { releaseContinue } from "../edge/edgeServer.js";
import { declaresBody } from "../edge/requestFraming.js";
import { SHED_RETRY_AFTER_SECONDS, type LoadShedder } from "../edge/loadShedder.js";
import type { Logger } from "../observability/logger.js";
import type { RatelimitObserver } from "../observability/observers.js";
import { problems, type ProblemKind } from "../problems/catalogue.js";
import { sendProblem } from "../problems/problemDocument.js";
import { decisionBody, type DecisionRequest } from "./decisionRequest.js";
import type { RatelimitService, ServiceAnswer } from "./ratelimitService.js";
import type { ServiceCaller } from "./serviceAuth.js";
import type { ServiceTokenRight } from "./serviceTokens.js";
import { requestOutOfScope } from "./tokenScope.js";

/** Every path of the service begins with this; the dispatcher sends them all here. */
export const RATELIMIT_PREFIX = "/v1/ratelimit";
export const RESET_PATH = `${RATELIMIT_PREFIX}/reset`;
/** Largest body read: 20 checks with long descriptors fit several times over. */
export const RATELIMIT_BODY_LIMIT = 64 * 1024;

export interface RatelimitApiDeps {
  readonly service: RatelimitService;
  readonly authenticate: (authorization: string | undefined) => ServiceCaller | undefined;
  /** serviceTokens.requireScope of the config in force. */
  readonly requireScope: () => boolean;
  readonly logger: Logger;
  /** Refuses calls while the process cannot keep up (edge/loadShedder.ts); never when undefined. */
  readonly shedder?: Pick<LoadShedder, "shed"> | undefined;
  /** Told of each call's status and duration and of refused tokens, for /metrics. */
  readonly observer?: Pick<RatelimitObserver, "answered" | "tokenRefused"> | undefined;
}

interface Endpoint {
  readonly right: ServiceTokenRight;
  run(service: RatelimitService, request: DecisionRequest): ServiceAnswer | Promise<ServiceAnswer>;
}

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map([
  [RATELIMIT_PREFIX, { right: "decide", run: (service, request) => service.decide(request) }],
  [RESET_PATH, { right: "reset", run: (service, request) => service.reset(request) }],
]);

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;

/** The handler the dispatcher calls for every path under RATELIMIT_PREFIX. */
export function createRatelimitHandler({ service, authenticate, requireScope, logger, shedder, observer }: RatelimitApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const fail = (res: ServerResponse, error: unknown) => {
    logger.error({ err: error, path: RATELIMIT_PREFIX }, "the rate-limit API failed");
    sendProblem(res, problems.internal, "An unexpected error occurred.");
  };

  return function ratelimitApi(req, res) {
    if (observer !== undefined) {
      const started = performance.now();
      res.once("finish", () => observer.answered("http", String(res.statusCode), (performance.now() - started) / 1000));
    }
    const query = req.url!.indexOf("?");
    const endpoint = ENDPOINTS.get(query < 0 ? req.url! : req.url!.slice(0, query));
    if (endpoint === undefined) return refuseUnread(req, res, problems.notFound, `Nothing at ${req.method} ${req.url!.split("?")[0]}.`);
    if (req.method !== "POST") return refuseUnread(req, res, problems.methodNotAllowed, "Use POST.", { allow: "POST" });
    // Before anything is read or counted: a shed call is never charged.
    const overloaded = shedder?.shed("service");
    if (overloaded !== undefined) {
      return refuseUnread(req, res, problems.overloaded, `Sluice is overloaded: ${overloaded}. Retry in ${SHED_RETRY_AFTER_SECONDS}s.`, { "retry-after": String(SHED_RETRY_AFTER_SECONDS) });
    }

    const caller = authenticate(req.headers.authorization);
    if (caller === undefined) {
      observer?.tokenRefused("http", req.headers.authorization === undefined ? "missing" : "unknown");
      return refuseUnread(req, res, problems.serviceUnauthorized, "Send Authorization: Bearer <service token>.", { "www-authenticate": "Bearer" });
    }
    if (!caller.rights.includes(endpoint.right)) {
      observer?.tokenRefused("http", "no_right");
      return refuseUnread(req, res, problems.forbidden, `This needs a token with the "${endpoint.right}" right.`);
    }

    releaseContinue(req, res);
    readBody(req, (error, text) => {
      if (error === "too-large") return sendProblem(res, problems.payloadTooLarge, `The body is larger than ${RATELIMIT_BODY_LIMIT} bytes.`, { connection: "close" });
      if (error !== undefined) return res.destroy();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return sendInvalid(res, [{ name: "", reason: "the body is not valid JSON" }]);
      }
      const parsed = decisionBody.safeParse(json);
      if (!parsed.success) return sendInvalid(res, invalidParams(parsed.error));
      const outOfScope = requestOutOfScope(caller, parsed.data, requireScope());
      if (outOfScope !== undefined) {
        observer?.tokenRefused("http", "out_of_scope");
        return sendProblem(res, problems.outOfScope, `${outOfScope}.`);
      }
      try {
        const answer = endpoint.run(service, parsed.data);
        if (answer instanceof Promise) answer.then((a) => send(res, a), (e: unknown) => fail(res, e));
        else send(res, answer);
      } catch (e) {
        fail(res, e);
      }
    });
  };
}

function send(res: ServerResponse, answer: ServiceAnswer): void {
  switch (answer.status) {
    case 200: {
      const body = JSON.stringify(answer.body);
      res.writeHead(200, { ...JSON_HEADERS, "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    case 204:
      res.writeHead(204, { "cache-control": "no-store" });
      res.end();
      return;
    case 400:
      sendInvalid(res, answer.invalidParams);
      return;
    case 503:
      sendProblem(res, problems.limiterUnavailable, "The limiter store did not answer, and this limit fails closed.", { "retry-after": String(answer.retryAfter) });
  }
}

function sendInvalid(res: ServerResponse, params: readonly InvalidParam[]): void {
  const detail = params.map((p) => `${p.name || "(body)"}: ${p.reason}`).join("; ");
  sendProblem(res, problems.badRequest, `Invalid request body: ${detail}.`, undefined, { invalidParams: params });
}

/**
 * Reads the body as UTF-8 text, up to RATELIMIT_BODY_LIMIT bytes. Past it, stops reading and
 * answers "too-large" once; the 413 closes the connection, so the rest is never read. A body cut
 * off by the client answers "aborted" (nobody is left to answer).
 */
function readBody(req: IncomingMessage, done: (error: "too-large" | "aborted" | undefined, text: string) => void): void {
  const declared = Number(req.headers["content-length"]);
  if (declared > RATELIMIT_BODY_LIMIT) return done("too-large", "");
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (error: "too-large" | "aborted" | undefined) => {
    if (finished) return;
    finished = true;
    done(error, error === undefined ? Buffer.concat(chunks, size).toString("utf8") : "");
  };
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > RATELIMIT_BODY_LIMIT) {
      req.pause();
      finish("too-large");
    } else {
      chunks.push(chunk);
    }
  });
  req.on("end", () => finish(undefined));
  req.on("error", () => finish("aborted"));
  req.on("close", () => {
    if (!req.complete) finish("aborted");
  });
}

/**
 * Answers without reading the body. A request that declares one has its connection closed, as the
 * control plane's are (control/requestBodies.ts): the rest of the body, of any size, would
 * otherwise have to be read to find the next request. One without a body keeps its connection.
 */
function refuseUnread(req: IncomingMessage, res: ServerResponse, kind: ProblemKind, detail: string, headers: Record<string, string> = {}): void {
  sendProblem(res, kind, detail, declaresBody(req) ? { ...headers, connection: "close" } : headers);
}
