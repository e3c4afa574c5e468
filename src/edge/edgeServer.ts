/**
 * The node:http server every request arrives on, with the limits that protect it from slow or
 * oversized clients (config: server.*): headers must arrive within headersTimeout and the whole
 * request within requestTimeout (slowloris, slow bodies: 408), the request line and headers fit
 * in maxHeaderSize (431), a connection silent both ways for idleTimeout is closed, and past
 * maxConnections new connections are closed as they arrive. What the parser refuses is answered
 * by clientErrors.ts, and so is CONNECT (405: nothing is tunnelled).
 *
 * node checks the two request timeouts on a timer (30 s by default); it runs here at most every
 * second, and faster for shorter timeouts, so a timeout means what it says.
 *
 * `Expect: 100-continue`: node would invite every such client to send its body before anyone
 * looked at the request. Here the requests `holdsContinue` names (the gateway's and the rate-limit
 * API's) are invited by their handler through `releaseContinue`, once they have passed every
 * check (the proxy stage, in requestBody.ts; the rate-limit API once the token has passed); any
 * other request, and one without a body, is invited at once, as node would. Any other expectation
 * still gets node's 417.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { SluiceConfig } from "../config/schema.js";
import { answerClientError, refuseConnect } from "./clientErrors.js";
import { declaresBody } from "./requestFraming.js";

export type ServerLimits = Pick<SluiceConfig["server"], "headersTimeout" | "requestTimeout" | "idleTimeout" | "keepAliveTimeout" | "maxHeaderSize" | "maxConnections">;

export function createEdgeServer(limits: ServerLimits, listener: RequestListener, holdsContinue: (req: IncomingMessage) => boolean = () => false): Server {
  const server = createServer({
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    maxHeaderSize: limits.maxHeaderSize,
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(limits.headersTimeout / 4)),
  }, listener);
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeout); // no 'timeout' listener: node destroys the silent socket
  server.on("connect", refuseConnect);
  server.on("clientError", answerClientError);
  // With a listener, node sends no 100 itself and emits 'checkContinue' instead of 'request'.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    // A request without a body has nothing to hold back, and keeps its connection when invited.
    if (holdsContinue(req) && declaresBody(req)) holdContinue(req);
    else res.writeContinue();
    listener(req, res);
  });
  return server;
}

/** Set on a request whose `100 Continue` waits for its handler to want the body. */
const CONTINUE_HELD = Symbol("sluice.continueHeld");
type MayHoldContinue = IncomingMessage & { [CONTINUE_HELD]?: true };

function holdContinue(req: IncomingMessage): void {
  (req as MayHoldContinue)[CONTINUE_HELD] = true;
}

/** The handler wants the body now: a client that waits for `100 Continue` gets it, once. */
export function releaseContinue(req: IncomingMessage, res: ServerResponse): void {
  if ((req as MayHoldContinue)[CONTINUE_HELD] !== true) return;
  delete (req as MayHoldContinue)[CONTINUE_HELD];
  res.writeContinue();
}
