// The two systems Sluice grew from, replayed through the gateway over real HTTP: the
// microservices gateway (users + recommendations, 5 requests per 30 s per client, sliding) and
// the random-number API (5 a minute, then locked out until the minute is over).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { DEMO_YAML, startTestSluice, type TestSluice } from "../support/testSluice.js";

const KEY = "secret-key";
let sluice: TestSluice;

before(async () => {
  sluice = await startTestSluice(DEMO_YAML);
});
after(() => sluice.close());

async function problem(response: Response): Promise<{ code: string; status: number; type: string; title: string; detail: string }> {
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  return (await response.json()) as { code: string; status: number; type: string; title: string; detail: string };
}

describe("scenario 1: a gateway in front of microservices", () => {
  // Each test gets a fresh window: the shared per-client limit would otherwise leak between tests.
  beforeEach(() => sluice.clock.advance(60_000));

  it("routes /api/users/users/104 to the user service", async () => {
    const response = await sluice.call("/api/users/users/104", { key: KEY });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"user_id":104,"name":"Sean","segment":"ultra luxury"}');
  });

  it("routes /api/recommend/recommend/103 to the recommendation service", async () => {
    const response = await sluice.call("/api/recommend/recommend/103", { key: KEY });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"user_id":103,"recommendations":["T-shirt","jeans","shoes"]}');
  });

  it("answers an unknown user id with a 404 problem, not a 200", async () => {
    const response = await sluice.call("/api/users/users/999", { key: KEY });
    assert.equal(response.status, 404);
    assert.equal((await problem(response)).code, "SLUICE_ERR_NOT_FOUND");
  });

  it("refuses a request without a key with 401", async () => {
    const response = await sluice.call("/api/users/users/104");
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'ApiKey header="x-api-key"');
    const body = await problem(response);
    assert.deepEqual([body.status, body.code, body.type], [401, "SLUICE_ERR_UNAUTHORIZED", "/problems/unauthorized"]);
  });

  it("refuses a wrong key with 401", async () => {
    const response = await sluice.call("/api/users/users/104", { key: "wrong-key-123" });
    assert.equal(response.status, 401);
    assert.equal((await problem(response)).code, "SLUICE_ERR_UNAUTHORIZED");
  });

  it("answers an unknown service with 404", async () => {
    const response = await sluice.call("/api/payments/charge", { key: KEY });
    assert.equal(response.status, 404);
    assert.equal((await problem(response)).code, "SLUICE_ERR_SERVICE_NOT_FOUND");
  });

  it("checks the key before revealing whether a service exists", async () => {
    const response = await sluice.call("/api/payments/charge");
    assert.equal(response.status, 401);
  });

  it("admits 5 requests per 30 s per client across both services, then answers 429", async () => {
    const statuses: number[] = [];
    for (const path of ["users/users/101", "recommend/recommend/101", "users/users/102", "recommend/recommend/102", "users/users/103"]) {
      const response = await sluice.call(`/api/${path}`, { key: KEY });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);

    const limited = await sluice.call("/api/users/users/104", { key: KEY });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "30");
    assert.equal(limited.headers.get("ratelimit-policy"), '"per-client";q=5;w=30');
    assert.equal(limited.headers.get("ratelimit"), '"per-client";r=0;t=30');
    const body = await problem(limited);
    assert.deepEqual([body.status, body.code, body.type], [429, "SLUICE_ERR_RATE_LIMITED", "/problems/rate-limited"]);
  });

  it("counts each client on its own", async () => {
    for (let i = 0; i < 5; i++) await (await sluice.call("/api/users/users/101", { key: KEY })).body?.cancel();
    assert.equal((await sluice.call("/api/users/users/101", { key: KEY })).status, 429);
    assert.equal((await sluice.call("/api/users/users/101", { key: "other-secret-key" })).status, 200);
  });

  it("slides: each admitted request frees its place exactly 30 s after it was made", async () => {
    for (let i = 0; i < 5; i++) {
      await (await sluice.call("/api/users/users/101", { key: KEY })).body?.cancel();
      sluice.clock.advance(5_000); // requests at t = 0, 5, 10, 15, 20 s
    }
    sluice.clock.advance(4_999); // t = 29.999 s: all five still in the window
    const stillLimited = await sluice.call("/api/users/users/101", { key: KEY });
    assert.equal(stillLimited.status, 429);
    assert.equal(stillLimited.headers.get("retry-after"), "1");

    sluice.clock.advance(1); // t = 30 s: the first request leaves the window, one place frees
    const admitted = await sluice.call("/api/users/users/101", { key: KEY });
    assert.equal(admitted.status, 200);
    assert.equal(admitted.headers.get("ratelimit"), '"per-client";r=0;t=30');
    assert.equal((await sluice.call("/api/users/users/101", { key: KEY })).status, 429);
  });

  it("tells every admitted request how many remain", async () => {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) remaining.push((await sluice.call("/api/users/users/101", { key: KEY })).headers.get("ratelimit"));
    assert.deepEqual(remaining, ['"per-client";r=4;t=30', '"per-client";r=3;t=30', '"per-client";r=2;t=30']);
  });
});

describe("scenario 2: the random-number API with a per-user limit", () => {
  beforeEach(() => sluice.clock.advance(120_000));

  it("draws a number between the defaults 1 and 100", async () => {
    const response = await sluice.call("/api/random/number", { key: KEY });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { number: number; min: number; max: number };
    assert.deepEqual({ min: body.min, max: body.max }, { min: 1, max: 100 });
    assert.ok(Number.isInteger(body.number) && body.number >= 1 && body.number <= 100, `got ${body.number}`);
  });

  it("honours min and max, and min = max pins the number", async () => {
    const response = await sluice.call("/api/random/number?min=7&max=7", { key: KEY });
    assert.deepEqual(await response.json(), { number: 7, min: 7, max: 7 });
  });

  it("answers reversed or invalid bounds with a 400 problem", async () => {
    for (const query of ["min=10&max=1", "min=abc", "max=1.5"]) {
      const response = await sluice.call(`/api/random/number?${query}`, { key: KEY });
      assert.equal(response.status, 400, query);
      assert.equal((await problem(response)).code, "SLUICE_ERR_BAD_REQUEST");
    }
  });

  it("admits 5 a minute, then locks the user out until the minute is over", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await sluice.call("/api/random/number", { key: KEY })).status);
      sluice.clock.advance(10_000); // t = 0, 10, 20, 30, 40 s
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);

    const locked = await sluice.call("/api/random/number", { key: KEY }); // t = 50 s
    assert.equal(locked.status, 429);
    assert.equal(locked.headers.get("retry-after"), "10");
    assert.equal(locked.headers.get("ratelimit-policy"), '"random-per-minute";q=5;w=60');
    assert.equal(locked.headers.get("ratelimit"), '"random-per-minute";r=0;t=10');

    sluice.clock.advance(9_999); // t = 59.999 s: still the same minute
    assert.equal((await sluice.call("/api/random/number", { key: KEY })).status, 429);
    sluice.clock.advance(1); // t = 60 s: a new minute
    const again = await sluice.call("/api/random/number", { key: KEY });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("ratelimit"), '"random-per-minute";r=4;t=60');
  });

  it("keeps the random-number limit apart from the microservices limit", async () => {
    for (let i = 0; i < 5; i++) await (await sluice.call("/api/random/number", { key: KEY })).body?.cancel();
    assert.equal((await sluice.call("/api/random/number", { key: KEY })).status, 429);
    assert.equal((await sluice.call("/api/users/users/104", { key: KEY })).status, 200);
  });
});
