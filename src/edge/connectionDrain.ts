/**
 * Drains a node:http server's keep-alive connections the way Envoy does, so that stopping
 * Sluice breaks no request a client was already sending.
 *
 * The trouble with closing at once: a keep-alive connection between two requests looks idle to
 * the server, but its client may have written the next request already. node's `server.close()`
 * destroys such connections on the spot, and the client sees its request fail (undici:
 * `UND_ERR_SOCKET`), one on every connection it holds, on every path alike.
 *
 * So, in two steps:
 * 1. `start()`: from now on every response, whatever answers it (gateway, rate-limit API,
 *    control plane, /healthz), carries `Connection: close`, so each client retires its
 *    connection after its next response and opens a new one (elsewhere, once a load balancer
 *    has seen /readyz turn 503).
 * 2. `close(windowMs)`: the listener stops accepting, but the open connections stay. Each closes
 *    after the response to its next request; one that stays idle is closed by node at its
 *    keep-alive timeout (which the client was told: `Keep-Alive: timeout=…`, so it stops reusing
 *    it first). After `windowMs` whatever is still idle (a connection that never sent a request)
 *    is closed. It resolves once the last connection has gone; requests still running hold it up,
 *    and the caller's deadline cuts them off (`server.closeAllConnections()`).
 *
 * @example
 * const drain = connectionDrain(server);
 * drain.start();                                  // at SIGTERM
 * await delay(drainDelay);                        // the load balancer stops sending
 * await drain.close(keepAliveTimeout);            // then close what is left
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer } from "node:net";

export interface ConnectionDrain {
  /** Every response from now on asks its client to close the connection. */
  start(): void;
  /** Stops accepting and lets the open connections retire (see the header); resolves when none is left. */
  close(windowMs: number): Promise<void>;
}

export function connectionDrain(server: Server): ConnectionDrain {
  let draining = false;
  const retire = (_req: IncomingMessage, res: ServerResponse) => {
    // node then writes `Connection: close` and ends the connection after this response.
    if (draining) res.shouldKeepAlive = false;
  };
  // First, before any handler can start answering (a request with Expect: 100-continue arrives as 'checkContinue').
  server.prependListener("request", retire);
  server.prependListener("checkContinue", retire);

  return {
    start() {
      draining = true;
    },
    close(windowMs) {
      draining = true;
      return new Promise((resolve) => {
        const idle = setTimeout(() => server.closeIdleConnections(), windowMs);
        // node:http's close() would also close the idle keep-alive connections at once (the
        // failure this module exists for); net's only stops accepting, and calls back once the
        // last connection has gone.
        NetServer.prototype.close.call(server, () => {
          clearTimeout(idle);
          resolve();
        });
      });
    },
  };
}
