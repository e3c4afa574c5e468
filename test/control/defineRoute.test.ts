// One declaration, three outcomes: the Fastify route (its caller checked before the body is read,
// its input validated by the zod schemas, its answers and refusals), the handler's typed input,
// and the OpenAPI operation. A table of two small routes on a bare Fastify app shows each.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import { created, ok, registerRoutes, routeFor } from "../../src/control/defineRoute.js";
import { refuseUnreadBodies } from "../../src/control/requestBodies.js";
import { openApiOperation, openApiPaths } from "../../src/control/routeOpenApi.js";
import { UnknownPlan } from "../../src/accounts/plans.js";
import { problems } from "../../src/problems/catalogue.js";
import { useProblemResponses } from "../../src/problems/fastifyProblems.js";
import { ProblemError } from "../../src/problems/problemError.js";

const route = routeFor<{ readonly greeting: string }>();
const note = z.strictObject({ text: z.string().min(1), plan: z.string().optional(), window: z.string().transform((w) => Number.parseInt(w, 10)).optional() });

const ROUTES = [
  route({
    method: "GET", url: "/notes/:id", operationId: "getNote", auth: "none", tags: ["notes"], summary: "One note",
    query: z.strictObject({ upper: z.enum(["true", "false"]).transform((v) => v === "true").optional() }),
    responses: { 200: { description: "The note.", schema: z.object({ id: z.string(), text: z.string() }) } },
    problems: { 404: "No such note." },
    handle: ({ deps, params, query }) => {
      if (params.id === "missing") throw new ProblemError(problems.notFound, `No note "${params.id}".`);
      const text = `${deps.greeting} ${params.id}`;
      return ok({ id: params.id, text: query.upper === true ? text.toUpperCase() : text });
    },
  }),
  route({
    method: "POST", url: "/notes", operationId: "createNote", auth: "none", tags: ["notes"], summary: "Write a note",
    body: note, bodyLimit: 1024,
    responses: { 201: { description: "Written.", schema: z.object({ text: z.string(), window: z.number().optional(), raw: z.unknown() }) } },
    handle: ({ body, rawBody }) => {
      if (body.plan !== undefined) throw new UnknownPlan(body.plan);
      return created({ text: body.text, ...(body.window !== undefined && { window: body.window }), raw: rawBody });
    },
  }),
];

let app: FastifyInstance;
before(async () => {
  app = Fastify({ logger: false });
  useProblemResponses(app);
  refuseUnreadBodies(app);
  registerRoutes(app, ROUTES, { greeting: "hello" });
  await app.ready();
});
after(() => app.close());

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "POST", url: "/notes", headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(payload) });
const fieldsOf = (response: { json: <T>() => T }) => response.json<{ invalidParams: { name: string }[] }>().invalidParams.map((p) => p.name);

describe("a declared route, served", () => {
  it("hands the handler its dependencies, its params and its query as the schema outputs them", async () => {
    const response = await app.inject({ method: "GET", url: "/notes/n1?upper=true" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { id: "n1", text: "HELLO N1" });
    assert.equal(response.headers["cache-control"], "no-store");
  });

  it("answers a bad query or body with a 400 naming every bad field, before the handler runs", async () => {
    const query = await app.inject({ method: "GET", url: "/notes/n1?upper=yes&extra=1" });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json<{ code: string }>().code, problems.badRequest.code);
    assert.deepEqual(fieldsOf(query).sort(), ["extra", "upper"]);
    assert.deepEqual(fieldsOf(await post({ text: "", colour: "red" })).sort(), ["colour", "text"]);
    assert.deepEqual(fieldsOf(await post([])), [""], "the body as a whole");
  });

  it("reads a missing body as {}, so the required fields are named", async () => {
    const response = await app.inject({ method: "POST", url: "/notes" });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(fieldsOf(response), ["text"]);
  });

  it("gives the handler the body as the schema outputs it and as it came", async () => {
    const response = await post({ text: "hi", window: "30s" });
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.json(), { text: "hi", window: 30, raw: { text: "hi", window: "30s" } });
  });

  it("answers a thrown ProblemError or domain error as its problem", async () => {
    const missing = await app.inject({ method: "GET", url: "/notes/missing" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ code: string }>().code, problems.notFound.code);
    const unknownPlan = await post({ text: "hi", plan: "gold" });
    assert.equal(unknownPlan.statusCode, 400);
    assert.deepEqual(fieldsOf(unknownPlan), ["plan"]);
  });

  it("refuses a change from another origin, and a body past its limit", async () => {
    const crossSite = await post({ text: "hi" }, { origin: "https://elsewhere.example" });
    assert.equal(crossSite.statusCode, 403);
    assert.equal(crossSite.json<{ code: string }>().code, problems.crossSite.code);
    const large = await post({ text: "x".repeat(2000) });
    assert.equal(large.statusCode, 413);
  });
});

describe("a declared route, documented", () => {
  it("has its operationId, its parameters from the URL and the query's schema, and its answers", () => {
    const operation = openApiOperation(ROUTES[0]!);
    assert.equal(operation.operationId, "getNote");
    assert.deepEqual(operation.security, []);
    assert.deepEqual(operation.parameters?.map((p) => [p["name"], p["in"], p["required"]]), [["id", "path", true], ["upper", "query", false]]);
    assert.deepEqual(Object.keys(operation.responses).sort(), ["200", "400", "404"]);
    assert.deepEqual(operation.responses["404"]?.content?.["application/problem+json"]?.schema, { $ref: "#/components/schemas/Problem" });
  });

  it("adds the problems its input and auth imply: 400 and 413 for a body, 403 for a change", () => {
    const operation = openApiPaths(ROUTES)["/notes"]!["post"]!;
    assert.equal(operation.requestBody?.required, true);
    assert.deepEqual(Object.keys(operation.responses).sort(), ["201", "400", "403", "413"]);
    assert.match(operation.responses["413"]!.description, /1024 bytes/);
  });
});
