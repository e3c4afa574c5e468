/**
 * The whole of a problem answer to an injected request (Fastify's `inject`), as a client reads
 * it: the kind's status, `application/problem+json`, `no-store`, and exactly the document
 * `{ type, title, status, detail, code }` of src/problems/catalogue.ts.
 */
import assert from "node:assert/strict";
import type { LightMyRequestResponse } from "fastify";
import type { ProblemKind } from "../../src/problems/catalogue.js";

export function assertProblemReply(response: LightMyRequestResponse, kind: ProblemKind, detail: string): void {
  assert.equal(response.statusCode, kind.status, response.body);
  assert.equal(response.headers["content-type"], "application/problem+json");
  assert.equal(response.headers["cache-control"], "no-store");
  assert.deepEqual(response.json(), { type: `/problems/${kind.slug}`, title: kind.title, status: kind.status, detail, code: kind.code });
}
