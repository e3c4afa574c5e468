// What the three demo services share (src/demo/demoApp.ts): each refuses with RFC 9457 problem
// documents, and its OpenAPI document says so, so a client generated from it expects the media
// type it will get.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createRandomNumberService } from "../../src/demo/randomNumberService.js";
import { createRecommendationsService } from "../../src/demo/recommendationsService.js";
import { createUsersService } from "../../src/demo/usersService.js";

type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

const services: Record<string, { create: () => Promise<FastifyInstance>; refused: string }> = {
  random: { create: createRandomNumberService, refused: "/number?min=5&max=1" },
  users: { create: createUsersService, refused: "/users/999" },
  recommendations: { create: createRecommendationsService, refused: "/recommend/999" },
};

describe("the demo services' refusals", () => {
  for (const [name, { create, refused }] of Object.entries(services)) {
    it(`${name}: every 4xx it declares is application/problem+json, as it is served`, async () => {
      const app = await create();
      try {
        const served = await app.inject({ method: "GET", url: refused });
        assert.ok(served.statusCode >= 400 && served.statusCode < 500, `${refused} answered ${served.statusCode}`);
        assert.equal(served.headers["content-type"], "application/problem+json");
        const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json<Document>();
        const declared = Object.values(doc.paths).flatMap((methods) => Object.values(methods)).flatMap((operation) => Object.entries(operation.responses))
          .filter(([status]) => status.startsWith("4"));
        assert.ok(declared.length > 0, "it declares at least one 4xx");
        for (const [status, response] of declared) assert.deepEqual(Object.keys(response.content ?? {}), ["application/problem+json"], `its ${status}`);
      } finally {
        await app.close();
      }
    });
  }
});
