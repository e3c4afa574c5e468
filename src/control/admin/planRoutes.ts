/**
 * The admin API's plans: list, read, create or replace (its users meet the new limits on their
 * next request), and remove one nobody is on. A plan is stored as written (durations stay
 * "30s"); the accounts refuse an invalid one naming each field, and a plan in use (409).
 */
import { z } from "zod";
import { MAX_DESCRIPTION_LENGTH } from "../../accounts/plans.js";
import { limitSchema, nameSchema, type LimitInput } from "../../config/schema.js";
import { problems } from "../../problems/catalogue.js";
import { created, noContent, ok } from "../defineRoute.js";
import { adminRoute, ADMIN_API_PREFIX, ADMIN_BODY_LIMIT, notFound } from "./adminRoute.js";
import { planView, viewPlan } from "./adminViews.js";

const planBody = z.strictObject({
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  limits: z.record(nameSchema, limitSchema).describe("Limit name → limit, as in the config file's `limits`."),
});

const planList = z.object({ items: z.array(planView) });
const noSuchPlan = (name: string) => notFound(`plan named "${name}"`);
const base = { auth: "admin", tags: ["admin: plans"], bodyLimit: ADMIN_BODY_LIMIT } as const;

export const PLAN_ROUTES = [
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/plans`, operationId: "adminListPlans",
    summary: "List plans, by name",
    responses: { 200: { description: "Every plan.", schema: planList } },
    handle: async ({ deps: { accounts } }) => ok({ items: (await accounts.plans.list()).map(viewPlan) }),
  }),
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/plans/:name`, operationId: "adminGetPlan",
    summary: "One plan",
    responses: { 200: { description: "The plan.", schema: planView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => {
      const plan = await accounts.plans.get(params.name);
      if (plan === undefined) throw noSuchPlan(params.name);
      return ok(viewPlan(plan));
    },
  }),
  adminRoute({
    ...base, method: "PUT", url: `${ADMIN_API_PREFIX}/plans/:name`, operationId: "adminPutPlan",
    summary: "Create or replace a plan; its users meet the new limits on their next request",
    body: planBody,
    responses: { 200: { description: "The plan as stored, replaced.", schema: planView }, 201: { description: "The plan as stored, new.", schema: planView } },
    handle: async ({ deps: { accounts }, params, rawBody }) => {
      const existed = (await accounts.plans.get(params.name)) !== undefined;
      // Stored as written (durations stay "30s"), so the raw body, which the schema has accepted.
      const plan = await accounts.plans.set(params.name, rawBody as { description?: string; limits: Record<string, LimitInput> });
      return existed ? ok(viewPlan(plan)) : created(viewPlan(plan));
    },
  }),
  adminRoute({
    ...base, method: "DELETE", url: `${ADMIN_API_PREFIX}/plans/:name`, operationId: "adminDeletePlan",
    summary: "Remove a plan no user or key is on",
    responses: { 204: { description: "Removed." } },
    problems: { 404: problems.notFound.title, 409: problems.conflict.title },
    handle: async ({ deps: { accounts }, params }) => {
      if (!(await accounts.plans.remove(params.name))) throw noSuchPlan(params.name);
      return noContent();
    },
  }),
];
