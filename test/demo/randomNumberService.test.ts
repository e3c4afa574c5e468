// The demo random-number service: GET /number draws an integer between min and max, both
// included (1 and 100 unless told otherwise). Bounds that are not integers, out of range or
// reversed answer a 400 problem document; the service describes itself at /openapi.json.
// The draw is random, so the tests assert what must hold for every draw, never a value.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { BOUND, createRandomNumberService } from "../../src/demo/randomNumberService.js";
import { problems } from "../../src/problems/catalogue.js";
import { assertProblemReply } from "../support/problemReply.js";

interface Draw {
  readonly number: number;
  readonly min: number;
  readonly max: number;
}

let app: FastifyInstance;
before(async () => {
  app = await createRandomNumberService();
});
after(async () => {
  await app.close();
});

async function draw(query: string): Promise<Draw> {
  const response = await app.inject({ method: "GET", url: `/number${query}` });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
  return response.json<Draw>();
}

async function assertBadRequest(query: string, detail: string): Promise<void> {
  assertProblemReply(await app.inject({ method: "GET", url: `/number${query}` }), problems.badRequest, detail);
}

describe("GET /number", () => {
  it("draws between 1 and 100 when no bounds are given", async () => {
    for (let i = 0; i < 50; i++) {
      const { number, min, max } = await draw("");
      assert.deepEqual({ min, max }, { min: 1, max: 100 });
      assert.ok(Number.isInteger(number) && number >= 1 && number <= 100, `drew ${number}`);
    }
  });

  it("defaults only the bound that is missing", async () => {
    const low = await draw("?min=50");
    assert.deepEqual({ min: low.min, max: low.max }, { min: 50, max: 100 });
    const high = await draw("?max=3");
    assert.deepEqual({ min: high.min, max: high.max }, { min: 1, max: 3 });
    assert.ok(high.number >= 1 && high.number <= 3, `drew ${high.number}`);
  });

  it("includes both bounds: with min = max the only possible number is that one", async () => {
    assert.deepEqual(await draw("?min=7&max=7"), { number: 7, min: 7, max: 7 });
    assert.deepEqual(await draw("?min=-3&max=-3"), { number: -3, min: -3, max: -3 });
  });

  it("stays within small ranges, negative ones included", async () => {
    for (let i = 0; i < 50; i++) {
      const { number } = await draw("?min=-2&max=1");
      assert.ok([-2, -1, 0, 1].includes(number), `drew ${number}`);
    }
  });

  it("accepts the widest range, ±2^46", async () => {
    const { number, min, max } = await draw(`?min=${-BOUND}&max=${BOUND}`);
    assert.equal(BOUND, 70_368_744_177_664);
    assert.deepEqual({ min, max }, { min: -BOUND, max: BOUND });
    assert.ok(Number.isInteger(number) && number >= -BOUND && number <= BOUND, `drew ${number}`);
  });

  it("refuses reversed bounds, saying which is which", async () => {
    await assertBadRequest("?min=10&max=1", "min (10) must not be greater than max (1).");
    await assertBadRequest("?min=101", "min (101) must not be greater than max (100).");
  });

  const invalid: readonly (readonly [story: string, query: string, detail: string])[] = [
    ["a min that is not a number", "?min=abc", "querystring parameter 'min' must be integer."],
    ["a fractional max", "?max=1.5", "querystring parameter 'max' must be integer."],
    ["an empty min", "?min=", "querystring parameter 'min' must be integer."],
    ["a max beyond 2^46", `?max=${BOUND + 1}`, `querystring parameter 'max' must be <= ${BOUND}.`],
    ["a min below -2^46", `?min=${-BOUND - 1}`, `querystring parameter 'min' must be >= ${-BOUND}.`],
    ["an unknown parameter", "?count=3", "querystring must NOT have additional properties."],
  ];
  for (const [story, query, detail] of invalid) {
    it(`refuses ${story} with 400`, () => assertBadRequest(query, detail));
  }
});

describe("GET /openapi.json", () => {
  it("describes the random-number service, its bounds and their defaults", async () => {
    const response = await app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(response.statusCode, 200);
    const doc = response.json<{
      openapi: string;
      info: unknown;
      paths: Record<string, Record<string, { summary: string; parameters: { name: string; in: string; schema: unknown }[]; responses: Record<string, unknown> }>>;
    }>();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.info, { title: "Random number service", description: "Draws uniformly distributed random integers.", version: "1.0.0" });
    assert.deepEqual(Object.keys(doc.paths), ["/number"]);
    const get = doc.paths["/number"]?.["get"];
    assert.equal(get?.summary, "Draw a random integer between min and max, both included");
    assert.deepEqual(get?.parameters.map(({ name, in: where, schema }) => ({ name, in: where, schema })), [
      { name: "min", in: "query", schema: { type: "integer", default: 1, minimum: -BOUND, maximum: BOUND } },
      { name: "max", in: "query", schema: { type: "integer", default: 100, minimum: -BOUND, maximum: BOUND } },
    ]);
    assert.deepEqual(Object.keys(get?.responses ?? {}), ["200", "400"]);
  });
});

describe("the 400's media type", () => {
  it("is declared as it is served: application/problem+json", async () => {
    const served = await app.inject({ method: "GET", url: "/number?min=5&max=1" });
    assert.equal(served.statusCode, 400);
    assert.equal(served.headers["content-type"], "application/problem+json");
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json<{ paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>> }>();
    assert.deepEqual(Object.keys(doc.paths["/number"]!["get"]!.responses["400"]!.content), ["application/problem+json"]);
  });
});
