// The demo recommendation service ("ML" in the original demo): a fixed list of products per
// user, kept exactly as it was. Unknown users answer a 404 problem document; the service
// describes itself in OpenAPI at /openapi.json.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createRecommendationsService, DEMO_RECOMMENDATIONS } from "../../src/demo/recommendationsService.js";
import { problems } from "../../src/problems/catalogue.js";
import { assertProblemReply } from "../support/problemReply.js";

let app: FastifyInstance;
before(async () => {
  app = await createRecommendationsService();
});
after(async () => {
  await app.close();
});

describe("GET /recommend/:id", () => {
  const table: readonly (readonly [id: number, products: readonly string[]])[] = [
    [101, ["shirt", "jeans", "watch"]],
    [102, ["dress", "shoes", "handbag"]],
    [103, ["T-shirt", "jeans", "shoes"]],
    [104, ["Jackets", "Bracelet", "Shorts"]],
  ];
  for (const [id, products] of table) {
    it(`recommends ${products.join(", ")} to user ${id}`, async () => {
      const response = await app.inject({ method: "GET", url: `/recommend/${id}` });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
      assert.deepEqual(response.json(), { user_id: id, recommendations: products });
    });
  }

  it("has recommendations for exactly these four users", () => {
    assert.deepEqual([...DEMO_RECOMMENDATIONS.entries()], table);
  });

  for (const id of [100, 105]) {
    it(`answers 404 with a problem document for unknown user ${id}`, async () => {
      assertProblemReply(await app.inject({ method: "GET", url: `/recommend/${id}` }), problems.notFound, `No recommendations for user ${id}.`);
    });
  }

  it("answers 400 naming the parameter when the id is not an integer", async () => {
    assertProblemReply(await app.inject({ method: "GET", url: "/recommend/1.5" }), problems.badRequest, "params parameter 'id' must be integer.");
  });
});

describe("GET /openapi.json", () => {
  it("describes the recommendation service and its one route", async () => {
    const response = await app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(response.statusCode, 200);
    const doc = response.json<{ openapi: string; info: unknown; paths: Record<string, Record<string, { summary: string; responses: Record<string, unknown> }>> }>();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.info, { title: "Recommendation service", description: "Product recommendations for a user.", version: "1.0.0" });
    assert.deepEqual(Object.keys(doc.paths), ["/recommend/{id}"]);
    assert.equal(doc.paths["/recommend/{id}"]?.["get"]?.summary, "Get product recommendations for a user");
    assert.deepEqual(Object.keys(doc.paths["/recommend/{id}"]?.["get"]?.responses ?? {}), ["200", "404"]);
  });
});
