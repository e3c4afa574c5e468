// The rate-limit service as an application calls it, over real HTTP, on the memory store and on
// real Redis: a decision admits up to the limit and then denies (a denial is a 200 answer, with
// how long to wait); several checks are admitted only together and a refused call consumes
// nothing; cost 0 reads a limit without touching it; an admin resets a limit; named policies from
// the config apply their defaults, overrides and unlimited rules. Then the edges: who may call
// (401, 403), what a bad body gets (400 naming the field, 413), wrong methods and paths, the
// OpenAPI document, and a store that cannot be reached (503). Assertions name problem codes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { problems } from "../../src/problems/catalogue.js";
import { decisionAnswer, decisionBody } from "../../src/service/decisionRequest.js";
import { sendRaw } from "../gateway/hostile/hostileHarness.js";
import { testRedisClient } from "../support/redis.js";
import { ADMIN_TOKEN, startServiceSluice, type Backend, type ServiceSluice } from "./serviceSluice.js";

// A generous store deadline: on a busy machine a missed one would fail the ad-hoc limits closed.
const POLICIES = `
limiter: { timeout: 5s }
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { limit: 3, window: 1m }
      - key: identifier
        value: newsletter
        limit: { algorithm: fixed-window, limit: 100, window: 1h }
      - key: identifier
        value: ops
      - key: plan
        value: pro
        descriptors:
          - key: identifier
            limit: { algorithm: sliding-window-counter, limit: 10, window: 1m }
`;

/** An ad-hoc limit of 3 a minute for `identifier`. */
const threePerMinute = (identifier: string, extra: Record<string, unknown> = {}) => ({ identifier, limit: 3, duration: "60s", ...extra });

for (const backend of ["memory", "redis"] as const satisfies readonly Backend[]) {
  describe(`POST /v1/ratelimit on the ${backend} store`, () => {
    let sluice: ServiceSluice;
    before(async () => {
      sluice = await startServiceSluice(POLICIES, { backend });
    });
    after(() => sluice.close());

    it("admits up to the limit, then answers a denial with how long to wait", async () => {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await sluice.decide(threePerMinute("admits-then-denies")));
      assert.deepEqual(answers.map((a) => [a["allowed"], a["limit"], a["remaining"]]), [[true, 3, 2], [true, 3, 1], [true, 3, 0], [false, 3, 0]]);
      assert.equal(answers[0]!["retryAfter"], undefined, "no wait when admitted");
      const retryAfter = answers[3]!["retryAfter"] as number;
      assert.ok(retryAfter >= 1 && retryAfter <= 20, `a third of the minute (GCRA): ${retryAfter}`);
      assert.ok((answers[3]!["reset"] as number) > Date.UTC(2026, 0, 1), "reset is a Unix time in ms");
    });

    it("counts each identifier, namespace, algorithm and limit apart", async () => {
      for (let i = 0; i < 3; i++) await sluice.decide(threePerMinute("apart"));
      assert.equal((await sluice.decide(threePerMinute("apart")))["allowed"], false);
      assert.equal((await sluice.decide(threePerMinute("apart-2")))["allowed"], true);
      assert.equal((await sluice.decide(threePerMinute("apart", { namespace: "other" })))["allowed"], true);
      assert.equal((await sluice.decide(threePerMinute("apart", { algorithm: "fixed-window" })))["allowed"], true);
      assert.equal((await sluice.decide({ identifier: "apart", limit: 4, duration: "60s" }))["allowed"], true);
    });

    it("admits a GCRA limit's burst at once, counted apart from the same limit without it", async () => {
      const burst = { identifier: "bursty", limit: 2, duration: "60s", burst: 5 };
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await sluice.decide(burst));
      assert.deepEqual(answers.map((a) => [a["allowed"], a["remaining"]]), [[true, 4], [true, 3], [true, 2], [true, 1], [true, 0], [false, 0]]);
      assert.equal(answers[0]!["limit"], 2, "the limit is still 2 a minute");
      const paced = [];
      for (let i = 0; i < 3; i++) paced.push((await sluice.decide({ identifier: "bursty", limit: 2, duration: "60s" }))["allowed"]);
      assert.deepEqual(paced, [true, true, false], "without a burst: 2 at once, on a counter of its own");
    });

    it("fills a token bucket to its capacity, counted apart from another capacity", async () => {
      const bucket = (capacity: number) => ({ identifier: "bucket", limit: 1, duration: "1h", algorithm: "token-bucket", capacity });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await sluice.decide(bucket(3)));
      assert.deepEqual(answers.map((a) => [a["allowed"], a["limit"], a["remaining"]]), [[true, 1, 2], [true, 1, 1], [true, 1, 0], [false, 1, 0]]);
      assert.deepEqual([(await sluice.decide(bucket(1)))["allowed"], (await sluice.decide(bucket(1)))["allowed"]], [true, false]);
    });

    it("decides several checks all-or-nothing: a refused call consumes nothing", async () => {
      const perSecond = { identifier: "both", limit: 5, duration: "1h" };
      const perDay = { identifier: "both", limit: 2, duration: "1d", algorithm: "fixed-window" };
      const call = () => sluice.decide({ checks: [perSecond, perDay] });
      assert.equal((await call())["allowed"], true);
      assert.equal((await call())["allowed"], true);
      const refused = await call();
      assert.equal(refused["allowed"], false);
      const checks = refused["checks"] as Record<string, unknown>[];
      assert.deepEqual(checks.map((c) => [c["allowed"], c["remaining"]]), [[true, 3], [false, 0]], "each check's own result, in order");
      assert.equal(refused["limit"], 2, "the top level is the check that refused");
      const state = await sluice.decide({ ...perSecond, cost: 0 });
      assert.equal(state["remaining"], 3, "the refused calls took nothing from the limit that would have admitted them");
    });

    it("reads a limit's state at cost 0 without consuming it", async () => {
      await sluice.decide(threePerMinute("peek"));
      const reads = [];
      for (let i = 0; i < 5; i++) reads.push(await sluice.decide(threePerMinute("peek", { cost: 0 })));
      assert.deepEqual(reads.map((r) => r["remaining"]), [2, 2, 2, 2, 2]);
      assert.equal((await sluice.decide(threePerMinute("peek")))["remaining"], 1);
    });

    it("resets a limit for the admin: the next call starts afresh", async () => {
      for (let i = 0; i < 4; i++) await sluice.decide(threePerMinute("reset-me"));
      const reset = await sluice.post("/v1/ratelimit/reset", threePerMinute("reset-me"));
      assert.equal(reset.status, 204);
      assert.deepEqual([(await sluice.decide(threePerMinute("reset-me")))["remaining"]], [2]);
    });

    it("applies a named policy's default, overrides and unlimited rules", async () => {
      const byDefault = [];
      for (let i = 0; i < 4; i++) byDefault.push((await sluice.decide({ policy: "emails", identifier: "user-42" }))["allowed"]);
      assert.deepEqual(byDefault, [true, true, true, false]);
      assert.deepEqual(await sluice.decide({ policy: "emails", identifier: "user-43" }), { ...(await sluice.decide({ policy: "emails", identifier: "user-43", cost: 0 })) }, "another identifier, its own counter");
      const newsletter = await sluice.decide({ policy: "emails", identifier: "newsletter" });
      assert.deepEqual([newsletter["limit"], newsletter["remaining"]], [100, 99]);
      assert.deepEqual(await sluice.decide({ policy: "emails", identifier: "ops", cost: 1000 }), { allowed: true, unlimited: true });
      const pro = await sluice.decide({ policy: "emails", descriptor: [{ key: "plan", value: "pro" }], identifier: "user-42" });
      assert.deepEqual([pro["allowed"], pro["limit"]], [true, 10], "user-42 under plan pro is another counter, under the nested rule");
      assert.deepEqual(await sluice.decide({ policy: "emails", descriptor: [{ key: "region", value: "eu" }] }), { allowed: true, unlimited: true }, "no rule: nothing limits it");
    });

    it("mixes named and ad-hoc checks in one call", async () => {
      const answer = await sluice.decide({ checks: [{ policy: "emails", identifier: "ops" }, threePerMinute("mixed")] });
      assert.deepEqual(answer["checks"], [{ allowed: true, unlimited: true }, { allowed: true, limit: 3, remaining: 2, reset: (answer["checks"] as { reset: number }[])[1]!.reset }]);
      assert.deepEqual([answer["allowed"], answer["remaining"]], [true, 2]);
    });

    if (backend === "redis") {
      it("writes nothing to Redis for a read, and keeps its keys apart from the gateway's", async () => {
        const redis = testRedisClient();
        try {
          await sluice.decide(threePerMinute("never-consumed", { cost: 0 }));
          assert.deepEqual(await redis.keys(`${sluice.prefix}*never-consumed*`), []);
          await sluice.decide(threePerMinute("consumed"));
          assert.deepEqual(await redis.keys(`${sluice.prefix}*consumed*`), [`${sluice.prefix}{consumed}svc-adhoc:default:gcra:3:60000:g`]);
        } finally {
          redis.disconnect();
        }
      });
    }
  });
}

describe("the rate-limit API's answers on the memory store's clock", () => {
  let sluice: ServiceSluice;
  before(async () => {
    sluice = await startServiceSluice(POLICIES);
  });
  after(() => sluice.close());

  it("states reset as a Unix time in ms and retryAfter in whole seconds", async () => {
    const start = sluice.clock.now;
    const spec = { identifier: "exact", limit: 2, duration: "10s", algorithm: "fixed-window" };
    assert.deepEqual(await sluice.decide(spec), { allowed: true, limit: 2, remaining: 1, reset: start + 10_000 });
    sluice.clock.advance(2_500);
    assert.deepEqual(await sluice.decide(spec), { allowed: true, limit: 2, remaining: 0, reset: start + 10_000 });
    assert.deepEqual(await sluice.decide(spec), { allowed: false, limit: 2, remaining: 0, reset: start + 10_000, retryAfter: 8 });
    sluice.clock.advance(7_500);
    assert.equal((await sluice.decide(spec))["allowed"], true, "the window is over");
  });

  it("states reset in whole milliseconds, as the schema says, when the limit's pace is not (7 a minute)", async () => {
    const start = sluice.clock.now;
    for (const algorithm of ["gcra", "token-bucket"] as const) {
      const spec = { identifier: `uneven-${algorithm}`, limit: 7, duration: "1m", algorithm };
      const answers = [await sluice.decide(spec), await sluice.decide({ checks: [spec, { ...spec, identifier: "other" }] })];
      for (const answer of answers) {
        assert.equal(decisionAnswer.safeParse(answer).success, true, `${algorithm}: ${JSON.stringify(answer)}`);
        for (const result of [answer, ...((answer["checks"] ?? []) as Record<string, unknown>[])]) assert.ok(Number.isInteger(result["reset"]), `${algorithm}: reset ${String(result["reset"])}`);
      }
      // Rounded up, never down: the limit is not whole before the time it states.
      assert.equal(answers[0]!["reset"], start + Math.ceil(60_000 / 7));
    }
  });

  it("refuses a cost the limit can never admit at once, saying so", async () => {
    const answer = await sluice.decide({ identifier: "too-much", limit: 2, duration: "10s", cost: 3 });
    assert.deepEqual([answer["allowed"], answer["reason"]], [false, "cost-exceeds-limit"]);
  });
});

describe("who may call the rate-limit API", () => {
  let sluice: ServiceSluice;
  before(async () => {
    sluice = await startServiceSluice(POLICIES);
  });
  after(() => sluice.close());

  const code = async (response: Response) => ((await response.json()) as { code: string }).code;

  it("turns away a call without a token, or with one it does not know, before reading the body", async () => {
    const none = await sluice.post("/v1/ratelimit", threePerMinute("x"), null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    assert.equal(await code(none), problems.serviceUnauthorized.code);
    const wrong = await sluice.post("/v1/ratelimit", "{ not even json", "not-the-admin-token");
    assert.equal(wrong.status, 401, "no 400: a stranger's body is never parsed");
    assert.equal(await code(wrong), problems.serviceUnauthorized.code);
    const basic = await fetch(`${sluice.url}/v1/ratelimit`, { method: "POST", headers: { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` }, body: "{}" });
    assert.equal(basic.status, 401);
  });

  it("accepts nobody when there is neither an admin token nor a database of service tokens", async () => {
    const closed = await startServiceSluice("", { adminToken: undefined });
    try {
      assert.equal((await closed.post("/v1/ratelimit", threePerMinute("x"), "")).status, 401);
    } finally {
      await closed.close();
    }
  });
});

describe("what a bad request to the rate-limit API gets", () => {
  let sluice: ServiceSluice;
  before(async () => {
    sluice = await startServiceSluice(POLICIES);
  });
  after(() => sluice.close());

  const invalid = async (body: unknown): Promise<string[]> => {
    const response = await sluice.post("/v1/ratelimit", body);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const problem = (await response.json()) as { code: string; invalidParams: { name: string }[] };
    assert.equal(problem.code, problems.badRequest.code);
    return problem.invalidParams.map((p) => p.name);
  };

  it("names every missing, wrong or unknown field", async () => {
    assert.deepEqual(await invalid({ identifier: "u" }), ["limit", "duration"]);
    assert.deepEqual(await invalid({ identifier: 42, limit: "ten", duration: "10 s", colour: "red" }), ["identifier", "limit", "duration", "colour"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", algorithm: "concurrency" }), ["algorithm"]);
    assert.deepEqual(await invalid([]), [""]);
    assert.deepEqual(await invalid("{ not json"), [""]);
  });

  it("refuses text that is not well-formed Unicode (a lone surrogate, which JSON can carry), naming the field", async () => {
    const lone = "user-\ud800";
    assert.deepEqual(await invalid(threePerMinute(lone)), ["identifier"]);
    assert.deepEqual(await invalid({ policy: "emails", identifier: lone }), ["identifier"]);
    assert.deepEqual(await invalid({ policy: "emails", descriptor: [{ key: "plan", value: "pro" }, { key: "id\udc00", value: lone }] }), ["descriptor.1.key", "descriptor.1.value"]);
    assert.deepEqual(await invalid({ checks: [threePerMinute("fine"), threePerMinute(lone)] }), ["checks.1.identifier"]);
    const reset = await sluice.post("/v1/ratelimit/reset", threePerMinute(lone));
    assert.equal(reset.status, 400);
    assert.equal((await sluice.post("/v1/ratelimit", threePerMinute("user-\ud83d\ude00"))).status, 200, "a surrogate pair (an emoji) is text");
  });

  it("bounds what a caller may ask for", async () => {
    assert.deepEqual(await invalid({ identifier: "u".repeat(257), limit: 3, duration: "1m" }), ["identifier"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 1_000_001, duration: "1m" }), ["limit"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 20_000, duration: "1m", algorithm: "sliding-window-log" }), ["limit"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "367d" }), ["duration"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: 0 }), ["duration"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", cost: -1 }), ["cost"]);
    assert.deepEqual(await invalid({ checks: Array.from({ length: 21 }, (_, i) => threePerMinute(`u${i}`)) }), ["checks"]);
  });

  it("takes a burst for gcra only and a capacity for token-bucket only, where it defaults to the limit", async () => {
    const tokenBucket = { identifier: "u", limit: 3, duration: "1m", algorithm: "token-bucket" };
    const response = await sluice.post("/v1/ratelimit", tokenBucket);
    assert.equal(response.status, 200, "a token bucket without a capacity holds `limit` tokens");
    assert.deepEqual(await invalid({ ...tokenBucket, capacity: 6, burst: 6 }), ["burst"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", algorithm: "fixed-window", burst: 6 }), ["burst"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", capacity: 6 }), ["capacity"], "the default algorithm is gcra");
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", algorithm: "sliding-window-counter", capacity: 6 }), ["capacity"]);
    assert.deepEqual(await invalid({ policy: "emails", identifier: "u", burst: 6 }), ["burst"]);
    assert.deepEqual(await invalid({ checks: [threePerMinute("u"), { ...tokenBucket, burst: 2 }] }), ["checks.1.burst"]);
  });

  it("takes a burst and a capacity only as whole numbers from 1 to a million", async () => {
    for (const bad of [0, -1, 1.5, "6", 1_000_001]) {
      assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", burst: bad }), ["burst"], `burst ${bad}`);
      assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", algorithm: "token-bucket", capacity: bad }), ["capacity"], `capacity ${bad}`);
    }
  });

  it("keeps policies' and ad-hoc fields apart, and names the check of a batch", async () => {
    assert.deepEqual(await invalid({ policy: "emails", identifier: "u", limit: 3 }), ["limit"]);
    assert.deepEqual(await invalid({ policy: "emails" }), ["identifier"]);
    assert.deepEqual(await invalid({ identifier: "u", limit: 3, duration: "1m", descriptor: [{ key: "k", value: "v" }] }), ["descriptor"]);
    assert.deepEqual(await invalid({ checks: [threePerMinute("u")], identifier: "u" }), ["identifier"]);
    assert.deepEqual(await invalid({ checks: [threePerMinute("u"), { identifier: "u", limit: 3 }] }), ["checks.1.duration"]);
  });

  it("names a policy the config does not define", async () => {
    assert.deepEqual(await invalid({ policy: "sms", identifier: "u" }), ["policy"]);
    assert.deepEqual(await invalid({ checks: [threePerMinute("u"), { policy: "sms", identifier: "u" }] }), ["checks.1.policy"]);
  });

  it("answers 413 to a body past 64 KiB, 405 to another method, 404 to another path", async () => {
    const large = await sluice.post("/v1/ratelimit", JSON.stringify({ identifier: "u", limit: 3, duration: "1m", pad: "x".repeat(70_000) }));
    assert.equal(large.status, 413);
    assert.equal(((await large.json()) as { code: string }).code, problems.payloadTooLarge.code);
    const get = await fetch(`${sluice.url}/v1/ratelimit`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal((await sluice.post("/v1/ratelimit/other", {})).status, 404);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${sluice.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, unknown> } };
    assert.ok(doc.paths["/v1/ratelimit"]?.["post"]);
    assert.ok(doc.paths["/v1/ratelimit/reset"]?.["post"]);
    assert.ok(doc.components.securitySchemes["serviceToken"]);
    type Decide = { requestBody: { content: Record<string, { schema: { properties: Record<string, { description: string }> }; examples: Record<string, { value: unknown }> }> } };
    const body = (doc.paths["/v1/ratelimit"]?.["post"] as Decide).requestBody.content["application/json"]!;
    assert.match(body.schema.properties["burst"]!.description, /gcra only/);
    assert.match(body.schema.properties["capacity"]!.description, /token-bucket only/);
    for (const [name, example] of Object.entries(body.examples)) assert.equal(decisionBody.safeParse(example.value).success, true, `example "${name}" is a valid body`);
  });
});

describe("a body the rate-limit API does not read", () => {
  let sluice: ServiceSluice;
  before(async () => {
    sluice = await startServiceSluice(POLICIES);
  });
  after(() => sluice.close());
  const host = () => new URL(sluice.url).host;

  it("gets its answer at once, and the connection closes: another path, another method, no token", async () => {
    // Each declares 64 MiB and sends 100 bytes: an answer that comes was given without the rest.
    for (const [method, target, token, status] of [["POST", "/v1/ratelimit/other", ADMIN_TOKEN, 404], ["PUT", "/v1/ratelimit", ADMIN_TOKEN, 405], ["POST", "/v1/ratelimit", "", 401]] as const) {
      const head = `${method} ${target} HTTP/1.1\r\nHost: ${host()}\r\ncontent-type: application/json\r\ncontent-length: ${64 * 1024 * 1024}\r\nauthorization: Bearer ${token}\r\n\r\n`;
      const reply = await sendRaw({ sluice }, [head, "[".repeat(100)]);
      assert.deepEqual(reply.statuses, [status], `${method} ${target}: ${reply.raw.slice(0, 300)}`);
      assert.equal(reply.headers["connection"], "close");
      assert.equal(reply.closedByServer, true, `${method} ${target}`);
    }
  });

  it("keeps the connection of a refused request that has no body", async () => {
    const get = (extra: string) => `GET /v1/ratelimit/other HTTP/1.1\r\nHost: ${host()}\r\n${extra}\r\n`;
    const reply = await sendRaw({ sluice }, [get(""), get("Connection: close\r\n")]);
    assert.deepEqual(reply.statuses, [404, 404]);
  });
});

describe("the rate-limit API when its store cannot be reached", () => {
  let sluice: ServiceSluice;
  before(async () => {
    // Nothing listens on port 1: every decision meets the store's deadline.
    sluice = await startServiceSluice(POLICIES, { backend: "redis", redisUrl: "redis://127.0.0.1:1" });
  });
  after(() => sluice.close());

  it("answers 503 for an ad-hoc limit, which fails closed, so the caller's own failure policy decides", async () => {
    const response = await sluice.post("/v1/ratelimit", threePerMinute("u"));
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.equal(((await response.json()) as { code: string }).code, problems.limiterUnavailable.code);
  });

  it("applies a named policy's own failure mode (open by default)", async () => {
    assert.equal((await sluice.decide({ policy: "emails", identifier: "u" }))["allowed"], true);
  });

  it("answers 503 to a reset it cannot carry out", async () => {
    assert.equal((await sluice.post("/v1/ratelimit/reset", threePerMinute("u"))).status, 503);
  });
});
