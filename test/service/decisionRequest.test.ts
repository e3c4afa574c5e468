// A request body in the API's shape becomes the checks the service decides: one check or several,
// durations as milliseconds, defaults filled in, and a policy check's identifier as the last entry
// of its descriptor. (Bad bodies are told field by field: test/service/ratelimitApi.test.ts.)
import assert from "node:assert/strict";
import { it } from "node:test";
import { decisionBody } from "../../src/service/decisionRequest.js";

it("reads one ad-hoc check, with its defaults", () => {
  assert.deepEqual(decisionBody.parse({ identifier: "user-42", limit: 100, duration: "60s" }), {
    checks: [{ kind: "ad-hoc", namespace: "default", identifier: "user-42", algorithm: "gcra", limit: 100, windowMs: 60_000, cost: 1 }],
    batch: false,
  });
});

it("reads a GCRA burst and a token bucket's capacity", () => {
  const [gcra, bucket] = decisionBody.parse({ checks: [
    { identifier: "u", limit: 10, duration: "1m", burst: 30 },
    { identifier: "u", limit: 10, duration: "1m", algorithm: "token-bucket", capacity: 50 },
  ] }).checks;
  assert.deepEqual(gcra, { kind: "ad-hoc", namespace: "default", identifier: "u", algorithm: "gcra", limit: 10, windowMs: 60_000, burst: 30, cost: 1 });
  assert.deepEqual(bucket, { kind: "ad-hoc", namespace: "default", identifier: "u", algorithm: "token-bucket", limit: 10, windowMs: 60_000, capacity: 50, cost: 1 });
});

it("takes a duration as a string with a unit or as milliseconds", () => {
  const windowOf = (duration: unknown) => (decisionBody.parse({ identifier: "u", limit: 1, duration }).checks[0] as { windowMs: number }).windowMs;
  assert.deepEqual([windowOf("1d"), windowOf("500ms"), windowOf(1500)], [86_400_000, 500, 1500]);
});

it("puts a policy check's identifier after its descriptor entries", () => {
  assert.deepEqual(decisionBody.parse({ policy: "emails", descriptor: [{ key: "plan", value: "pro" }], identifier: "user-42", cost: 0 }).checks, [
    { kind: "policy", policy: "emails", descriptor: [{ key: "plan", value: "pro" }, { key: "identifier", value: "user-42" }], cost: 0 },
  ]);
});

it("reads several checks as a batch, in order", () => {
  const request = decisionBody.parse({ checks: [{ policy: "emails", identifier: "a" }, { identifier: "a", limit: 2, duration: 1000, namespace: "n", algorithm: "fixed-window" }] });
  assert.equal(request.batch, true);
  assert.deepEqual(request.checks.map((c) => c.kind), ["policy", "ad-hoc"]);
});
