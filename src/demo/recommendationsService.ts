/**
 * The "ML" recommendation service of the original microservices demo: a fixed table per user,
 * kept exactly as it was.
 */
import type { FastifyInstance } from "fastify";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import { createDemoApp, problemResponse } from "./demoApp.js";
import { userIdParams } from "./usersService.js";

export const DEMO_RECOMMENDATIONS: ReadonlyMap<number, readonly string[]> = new Map([
  [101, ["shirt", "jeans", "watch"]],
  [102, ["dress", "shoes", "handbag"]],
  [103, ["T-shirt", "jeans", "shoes"]],
  [104, ["Jackets", "Bracelet", "Shorts"]],
]);

export function createRecommendationsService(): Promise<FastifyInstance> {
  return createDemoApp(
    { title: "Recommendation service", description: "Product recommendations for a user." },
    (app) => {
      app.get<{ Params: { id: number } }>("/recommend/:id", {
        schema: {
          summary: "Get product recommendations for a user",
          params: userIdParams,
          response: {
            200: {
              type: "object",
              required: ["user_id", "recommendations"],
              properties: { user_id: { type: "integer" }, recommendations: { type: "array", items: { type: "string" } } },
            },
            404: problemResponse("No recommendations for this user id."),
          },
        },
      }, (request, reply) => {
        const recommendations = DEMO_RECOMMENDATIONS.get(request.params.id);
        if (recommendations === undefined) return replyProblem(reply, problems.notFound, `No recommendations for user ${request.params.id}.`);
        return { user_id: request.params.id, recommendations };
      });
    },
  );
}
