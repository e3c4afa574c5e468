/**
 * What every demo backend shares: a Fastify app that answers errors as problem documents and
 * publishes its own OpenAPI description at /openapi.json, generated from its route schemas.
 * The gateway fetches that description to build its /docs.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import { useProblemResponses } from "../problems/fastifyProblems.js";

export interface DemoInfo {
  readonly title: string;
  readonly description: string;
}

export async function createDemoApp(info: DemoInfo, register: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });
  useProblemResponses(app);
  await app.register(swagger, { openapi: { openapi: "3.1.0", info: { ...info, version: "1.0.0" } } });
  register(app);
  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());
  app.get("/healthz", { schema: { hide: true } }, () => ({ status: "ok" }));
  await app.ready();
  return app;
}

/** The problem document schema (see problemResponse). */
const problemSchema = {
  type: "object",
  description: "An RFC 9457 problem document.",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
  },
} as const;

/** A 4xx the route answers with replyProblem: declared with the media type it is sent with. */
export function problemResponse(description: string) {
  return { description, content: { "application/problem+json": { schema: problemSchema } } } as const;
}
