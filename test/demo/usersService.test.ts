// The demo user service, kept exactly as in the original microservices demo: four users and
// their segments. Unknown ids answer a 404 problem document; the service describes itself in
// OpenAPI at /openapi.json.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { createUsersService, DEMO_USERS } from "../../src/demo/usersService.js";
import { problems } from "../../src/problems/catalogue.js";
import { assertProblemReply } from "../support/problemReply.js";

let app: FastifyInstance;
before(async () => {
  app = await createUsersService();
});
after(async () => {
  await app.close();
});

describe("GET /users/:id", () => {
  const users = [
    { user_id: 101, name: "Atul", segment: "premium" },
    { user_id: 102, name: "Anagha", segment: "luxury" },
    { user_id: 103, name: "Aman", segment: "premium" },
    { user_id: 104, name: "Sean", segment: "ultra luxury" },
  ];
  for (const user of users) {
    it(`answers user ${user.user_id}: ${user.name}, ${user.segment}`, async () => {
      const response = await app.inject({ method: "GET", url: `/users/${user.user_id}` });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
      assert.deepEqual(response.json(), user);
    });
  }

  it("has exactly these four users and no others", () => {
    assert.deepEqual([...DEMO_USERS.values()], users);
  });

  for (const id of [100, 105, 999]) {
    it(`answers 404 with a problem document for unknown user ${id}`, async () => {
      assertProblemReply(await app.inject({ method: "GET", url: `/users/${id}` }), problems.notFound, `No user with id ${id}.`);
    });
  }

  it("answers 400 naming the parameter when the id is not an integer", async () => {
    assertProblemReply(await app.inject({ method: "GET", url: "/users/abc" }), problems.badRequest, "params parameter 'id' must be integer.");
  });

  it("answers 404 with a problem document for a path it does not serve", async () => {
    const response = await app.inject({ method: "GET", url: "/customers/101?full=1" });
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers["content-type"], "application/problem+json");
    assert.equal(response.json<{ detail: string }>().detail, "Nothing at GET /customers/101.");
  });
});

describe("GET /openapi.json", () => {
  it("describes the user service and its one route, with the 200 and 404 answers", async () => {
    const response = await app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(response.statusCode, 200);
    const doc = response.json<{ openapi: string; info: unknown; paths: Record<string, Record<string, { summary: string; responses: Record<string, unknown> }>> }>();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.info, { title: "User service", description: "Customer profiles and their segments.", version: "1.0.0" });
    assert.deepEqual(Object.keys(doc.paths), ["/users/{id}"]);
    assert.deepEqual(Object.keys(doc.paths["/users/{id}"] ?? {}), ["get"]);
    assert.equal(doc.paths["/users/{id}"]?.["get"]?.summary, "Get a user by id");
    assert.deepEqual(Object.keys(doc.paths["/users/{id}"]?.["get"]?.responses ?? {}), ["200", "404"]);
  });
});
