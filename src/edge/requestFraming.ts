/**
 * The last checks on a request's framing that node's parser (llhttp, strict) leaves to us, so
 * that what enters the pipeline means one thing to every hop. The parser itself already refuses,
 * with 400 and a closed connection (clientErrors.ts): Content-Length together with
 * Transfer-Encoding, two Content-Lengths (even equal ones), a Transfer-Encoding whose last coding
 * is not chunked, obs-fold, bare CR or LF, whitespace before a colon, control characters, and a
 * missing Host on HTTP/1.1. It lets through, and we refuse:
 * - two Host headers (node keeps the first; another hop may keep the last: RFC 9112 §3.2);
 * - a Transfer-Encoding other than exactly `chunked`, e.g. `gzip, chunked`: node de-chunks the
 *   body, and forwarding it would drop the gzip coding the client declared;
 * - an HTTP version other than 1.x (e.g. "HTTP/2.0" in a request line).
 * A refusal closes the connection, as for the parser's own.
 *
 * @example
 * framingProblem(req) // undefined, or why the request is refused
 */
import type { IncomingMessage } from "node:http";

export function framingProblem(req: IncomingMessage): string | undefined {
  if (req.httpVersionMajor !== 1) return `HTTP/${req.httpVersion} is not supported; send HTTP/1.1.`;
  const codings = req.headers["transfer-encoding"];
  if (codings !== undefined && codings.toLowerCase() !== "chunked") return `Transfer-Encoding "${codings}" is not supported; send chunked, or a Content-Length.`;
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host" && ++hosts > 1) return "The request has more than one Host header.";
  }
  return undefined;
}

/** Whether the request says a body follows (a Content-Length of 0 says none does). */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}
