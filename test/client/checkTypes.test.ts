// The client's types, checked by the compiler (npm run typecheck covers this file) and then by a
// few runtime assertions:
// - an ad-hoc check and a named-policy check are distinct: a mix, which the service answers with
//   a 400, does not type-check, in the client or in the middlewares' options; each
//   `@ts-expect-error` line fails the typecheck the day it compiles;
// - the answer's types, written out in src/client/results.ts so the published client needs no zod,
//   are the service's answer schema's (src/service/decisionRequest.ts), each assignable to the other.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { z } from "zod";
import { RateLimitClient, type LimitRequest, type LimitResult, type UnlimitedResult } from "../../src/client/index.js";
import { isResult } from "../../src/client/results.js";
import { rateLimit } from "../../src/middleware/express.js";
import { rateLimitHook } from "../../src/middleware/fastify.js";
import { checkResult, type LimitedResult } from "../../src/service/decisionRequest.js";

/** True when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const holds = <T extends true>(): T => true as T;

describe("the client's types", () => {
  const client = new RateLimitClient({ url: "http://127.0.0.1:1", token: "t" });

  it("tell a named-policy check from an ad-hoc one", async () => {
    const checks: LimitRequest[] = [
      { identifier: "a", limit: 3, duration: "1m" },
      { identifier: "a", limit: 3, duration: "1m", algorithm: "token-bucket", capacity: 6, namespace: "emails" },
      { policy: "emails", identifier: "a" },
      { policy: "emails", descriptor: [{ key: "plan", value: "free" }], cost: 2 },
      // @ts-expect-error a named policy's numbers are the operator's: no limit beside it
      { policy: "emails", identifier: "a", limit: 3 },
      // @ts-expect-error nor a namespace or an algorithm
      { policy: "emails", identifier: "a", namespace: "x", algorithm: "gcra" },
      // @ts-expect-error an ad-hoc check names no policy
      { identifier: "a", limit: 3, duration: "1m", policy: "emails" },
      // @ts-expect-error nor descriptor entries
      { identifier: "a", limit: 3, duration: "1m", descriptor: [{ key: "plan", value: "free" }] },
      // @ts-expect-error an ad-hoc check needs its duration
      { identifier: "a", limit: 3 },
    ];
    assert.equal(checks.length, 9);
    // Never called (no service listens): what matters is what the compiler accepts.
    async function mixedCalls() {
      // @ts-expect-error the issue's own example
      await client.limit({ policy: "emails", identifier: "a", limit: 3 });
      // @ts-expect-error a peek at an ad-hoc limit that names a policy
      await client.peek({ identifier: "a", limit: 3, duration: "1m", policy: "emails" });
      // @ts-expect-error a named check in a batch, with a duration
      await client.limitAll([{ policy: "emails", identifier: "a", duration: "1m" }]);
      // @ts-expect-error the Express middleware: a named policy with a limit
      rateLimit({ client, identifier: () => "a", policy: "emails", limit: 3 });
      // @ts-expect-error the Fastify hook: a named policy with a duration
      rateLimitHook({ client, identifier: () => "a", policy: "emails", duration: "1m" });
      // @ts-expect-error the Express middleware: an inline limit that names a policy
      rateLimit({ client, identifier: () => "a", limit: 3, duration: "1m", policy: "emails" });
    }
    assert.equal(typeof mixedCalls, "function");
    await client.close();
  });

  it("answer with the service's own result shapes", () => {
    holds<Same<Omit<LimitResult, "failure">, LimitedResult>>();
    holds<Same<Omit<UnlimitedResult, "failure">, Extract<z.infer<typeof checkResult>, { unlimited: true }>>>();
    // And what the schema accepts, the client's guard does.
    for (const answer of [{ allowed: true, limit: 5, remaining: 4, reset: 1 }, { allowed: false, limit: 5, remaining: 0, reset: 9, retryAfter: 3, reason: "cost-exceeds-limit" }, { allowed: true, unlimited: true }]) {
      assert.ok(isResult(checkResult.parse(answer)), JSON.stringify(answer));
    }
  });
});
