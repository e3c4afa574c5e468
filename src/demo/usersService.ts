/**
 * The user service of the original microservices demo. Its data is kept exactly as it was.
 */
import type { FastifyInstance } from "fastify";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import { createDemoApp, problemResponse } from "./demoApp.js";

export interface DemoUser {
  readonly user_id: number;
  readonly name: string;
  readonly segment: string;
}

export const DEMO_USERS: ReadonlyMap<number, DemoUser> = new Map([
  [101, { user_id: 101, name: "Atul", segment: "premium" }],
  [102, { user_id: 102, name: "Anagha", segment: "luxury" }],
  [103, { user_id: 103, name: "Aman", segment: "premium" }],
  [104, { user_id: 104, name: "Sean", segment: "ultra luxury" }],
]);

export const userIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "integer", description: "User id, e.g. 104." } },
} as const;

export function createUsersService(): Promise<FastifyInstance> {
  return createDemoApp(
    { title: "User service", description: "Customer profiles and their segments." },
    (app) => {
      app.get<{ Params: { id: number } }>("/users/:id", {
        schema: {
          summary: "Get a user by id",
          params: userIdParams,
          response: {
            200: {
              type: "object",
              required: ["user_id", "name", "segment"],
              properties: { user_id: { type: "integer" }, name: { type: "string" }, segment: { type: "string" } },
            },
            404: problemResponse("No user has this id."),
          },
        },
      }, (request, reply) => {
        const user = DEMO_USERS.get(request.params.id);
        return user ?? replyProblem(reply, problems.notFound, `No user with id ${request.params.id}.`);
      });
    },
  );
}
