/**
 * WebSocket upgrades through the gateway. node:http hands an upgrade request to the server's
 * 'upgrade' listener with the raw socket instead of a response; `responseForUpgrade` wraps that
 * socket in an ordinary ServerResponse, so the request runs the same pipeline (identify,
 * authenticate, route, limit) and any refusal is an ordinary problem document. When the route
 * allows WebSockets, the proxy stage asks the target to upgrade too; on its 101, `acceptUpgrade`
 * answers the client with the target's handshake and joins the two sockets byte for byte.
 * A target that answers anything else has its response passed on as usual.
 *
 * @example
 * const upgraded = new UpgradedSockets();
 * server.on("upgrade", (req, socket, head) => gateway(req, responseForUpgrade(req, upgraded.track(socket), head)));
 * // at the shutdown deadline: upgraded.destroyAll()
 */
import { ServerResponse, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";

/** A response written straight to an upgrade request's socket; the socket closes once it has ended. */
export function responseForUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): ServerResponse {
  // Bytes the client sent after its handshake (a first frame) are read again once the tunnel is joined.
  if (head.length > 0) socket.unshift(head);
  socket.on("error", destroyQuietly);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on("finish", endSocket);
  return res;
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.toLowerCase() === "websocket" && req.method === "GET";
}

/** The target switched protocols: pass its handshake to the client and join the sockets. */
export function acceptUpgrade(res: ServerResponse, statusCode: number, rawHeaders: readonly (Buffer | string)[], upstream: Duplex): void {
  const client = res.socket;
  upstream.on("error", destroyQuietly);
  if (client === null || client.destroyed) {
    upstream.destroy();
    return;
  }
  res.statusCode = statusCode; // for the access log and metrics: the response is the switch
  let head = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]!.toString()}: ${rawHeaders[i + 1]!.toString()}\r\n`;
  client.write(`${head}\r\n`);
  client.setTimeout(0);
  upstream.pipe(client);
  client.pipe(upstream);
  // Either side closing ends the other; 'close' also follows an error.
  upstream.on("close", () => client.destroy());
  client.on("close", () => upstream.destroy());
}

/**
 * The sockets upgrade requests arrived on, until they close. node:http no longer manages them
 * (closeAllConnections skips them), so shutdown cuts them here once its deadline has passed.
 */
export class UpgradedSockets {
  readonly #open = new Set<Duplex>();

  track(socket: Duplex): Duplex {
    this.#open.add(socket);
    socket.once("close", () => this.#open.delete(socket));
    return socket;
  }

  destroyAll(): void {
    for (const socket of this.#open) socket.destroy();
  }
}

function destroyQuietly(this: Duplex): void {
  this.destroy();
}

/** The answer is written: close the connection (the response then emits 'close', which ends the request's accounting). */
function endSocket(this: ServerResponse): void {
  this.socket?.destroySoon();
}
