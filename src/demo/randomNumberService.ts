/**
 * The random-number generator of the original web app: GET /number?min=1&max=100 answers
 * {"number":N,"min":1,"max":100}, drawn with crypto.randomInt (uniform, unpredictable).
 */
import { randomInt } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import { createDemoApp, problemResponse } from "./demoApp.js";

/** crypto.randomInt needs max − min < 2^48; ±2^46 keeps any pair of bounds inside that. */
export const BOUND = 2 ** 46;

export function createRandomNumberService(): Promise<FastifyInstance> {
  return createDemoApp(
    { title: "Random number service", description: "Draws uniformly distributed random integers." },
    (app) => {
      app.get<{ Querystring: { min: number; max: number } }>("/number", {
        schema: {
          summary: "Draw a random integer between min and max, both included",
          querystring: {
            type: "object",
            properties: {
              min: { type: "integer", default: 1, minimum: -BOUND, maximum: BOUND, description: "Smallest possible number." },
              max: { type: "integer", default: 100, minimum: -BOUND, maximum: BOUND, description: "Largest possible number." },
            },
            additionalProperties: false,
          },
          response: {
            200: {
              type: "object",
              required: ["number", "min", "max"],
              properties: { number: { type: "integer" }, min: { type: "integer" }, max: { type: "integer" } },
            },
            400: problemResponse("A bound is not a whole number in range, or min is greater than max."),
          },
        },
      }, (request, reply) => {
        const { min, max } = request.query;
        if (min > max) return replyProblem(reply, problems.badRequest, `min (${min}) must not be greater than max (${max}).`);
        return { number: randomInt(min, max + 1), min, max };
      });
    },
  );
}
