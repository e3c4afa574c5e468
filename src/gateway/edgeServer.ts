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
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { SluiceConfig } from "../config/schema.js";
import { refuseConnect } from "./clientErrors.js";

export type ServerLimits = Pick<SluiceConfig["server"], "headersTimeout" | "requestTimeout" | "idleTimeout" | "keepAliveTimeout" | "maxHeaderSize" | "maxConnections">;

export function createEdgeServer(limits: ServerLimits, listener: RequestListener): Server {
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
  return server;
}
