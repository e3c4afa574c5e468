/**
 * What a client gets when node's HTTP parser refuses its bytes before any request exists: a
 * problem document, then the connection closes. This covers the shapes that could smuggle a
 * second request past a proxy (Content-Length with Transfer-Encoding, two Content-Lengths, a
 * Transfer-Encoding that does not end in chunked, obs-fold, bare CR or LF, whitespace before a
 * colon, invalid characters, malformed chunks: 400), oversized headers (server.maxHeaderSize:
 * 431) and clients too slow to send their headers or request (server.headersTimeout,
 * server.requestTimeout: 408). Closing is the point: after a framing error nobody can tell
 * where the next request would start. Installed as Fastify's clientErrorHandler (sluice.ts),
 * which owns the server's 'clientError' event. A CONNECT (node hands it over as a bare socket)
 * gets 405 the same way: Sluice tunnels nothing.
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { problems, type ProblemKind } from "../problems/catalogue.js";
import { PROBLEM_CONTENT_TYPE, problemDocument } from "../problems/problemDocument.js";

interface ClientError extends Error {
  readonly code?: string;
  /** llhttp's reason, e.g. "Invalid header value char". */
  readonly reason?: string;
}

export function answerClientError(error: ClientError, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return; // the client is gone already
  // A response already on its way (a pipelined request's error) must not be corrupted by a second one.
  const inFlight = (socket as { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawProblem(...classify(error)));
  socket.destroy();
}

/** For the server's 'connect' event: a CONNECT request is refused, never tunnelled. */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  if (socket.writable) socket.write(rawProblem(problems.methodNotAllowed, "CONNECT is not supported: Sluice proxies /api/{service}/{path} requests only."));
  socket.destroy();
}

function classify(error: ClientError): [ProblemKind, string] {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return [problems.headersTooLarge, "The request line and headers are larger than this server accepts."];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [problems.requestTimeout, "The request did not arrive in time."];
    default:
      return [problems.badRequest, `The request is not valid HTTP/1.1${error.reason ? `: ${error.reason}` : ""}.`];
  }
}

function rawProblem(kind: ProblemKind, detail: string): string {
  const body = JSON.stringify(problemDocument(kind, detail));
  return `HTTP/1.1 ${kind.status} ${STATUS_CODES[kind.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`;
}
