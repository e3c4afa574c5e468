/**
 * Turns a catalogue entry into an RFC 9457 problem document. This is the one edge where errors
 * become bytes: the gateway, the control plane and the demo services all answer through it.
 */
import type { ServerResponse } from "node:http";
import type { ProblemKind } from "./catalogue.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export function problemDocument(kind: ProblemKind, detail: string, extensions: Record<string, unknown> = {}): ProblemDocument {
  return { type: `/problems/${kind.slug}`, title: kind.title, status: kind.status, detail, code: kind.code, ...extensions };
}

/** Writes a problem on a raw node response; `headers` carries e.g. Retry-After or RateLimit. */
export function sendProblem(
  res: ServerResponse,
  kind: ProblemKind,
  detail: string,
  headers?: Record<string, string>,
  extensions?: Record<string, unknown>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemDocument(kind, detail, extensions));
  res.writeHead(kind.status, {
    ...headers,
    "content-type": PROBLEM_CONTENT_TYPE,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}
