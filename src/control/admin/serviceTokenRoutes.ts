/**
 * The admin API's service tokens: what applications send to the rate-limit service
 * (POST /v1/ratelimit). List newest first, create with rights and a scope, read, revoke. A new
 * token's plaintext appears once, in the answer that creates it.
 */
import { z } from "zod";
import { nameSchema } from "../../config/schema.js";
import { problems } from "../../problems/catalogue.js";
import { SERVICE_TOKEN_RIGHTS, serviceTokenRepository } from "../../service/serviceTokens.js";
import { created, ok } from "../defineRoute.js";
import { adminRoute, ADMIN_API_PREFIX, ADMIN_BODY_LIMIT, notFound } from "./adminRoute.js";
import { flag, isoTime, serviceTokenView, viewServiceToken } from "./adminViews.js";

const serviceTokenListQuery = z.strictObject({
  includeRevoked: flag.optional().describe("Revoked tokens are left out unless true."),
});

const tokenScope = z.strictObject({
  namespaces: z.array(nameSchema).max(100).default([]).describe("Ad-hoc namespaces the token may use (an ad-hoc check without one uses \"default\"); none when omitted."),
  policies: z.array(nameSchema).max(100).default([]).describe("Named policies (over gRPC: Envoy domains) the token may use; none when omitted."),
});

const newServiceTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100).describe("Who uses it, e.g. the calling application."),
  rights: z.array(z.enum(SERVICE_TOKEN_RIGHTS)).min(1).optional().describe('"decide": decisions and reads of state (default); "reset": forget a limit\'s counters.'),
  scope: tokenScope.nullable().optional()
    .describe("What the token may use, for decisions, reads and resets alike; null or absent: every namespace and policy (unless serviceTokens.requireScope)."),
  expiresAt: isoTime.nullable().optional(),
});

const serviceTokenList = z.object({ items: z.array(serviceTokenView) });
const newServiceToken = z.object({ token: z.string().describe("The token: shown this once, never again."), record: serviceTokenView });

const noSuchToken = (id: string) => notFound(`service token with id "${id}"`);
const base = { auth: "admin", tags: ["admin: service tokens"], bodyLimit: ADMIN_BODY_LIMIT } as const;

export const SERVICE_TOKEN_ROUTES = [
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/service-tokens`, operationId: "adminListServiceTokens",
    summary: "List the rate-limit service's tokens, newest first",
    query: serviceTokenListQuery,
    responses: { 200: { description: "Every token (never the token itself).", schema: serviceTokenList } },
    handle: async ({ deps: { accounts }, query }) => ok({ items: (await serviceTokenRepository(accounts.db, { now: accounts.now }).list(query)).map(viewServiceToken) }),
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/service-tokens`, operationId: "adminCreateServiceToken",
    summary: "Create a token for an application to call POST /v1/ratelimit",
    body: newServiceTokenBody,
    responses: { 201: { description: "The token, shown this once, and its record.", schema: newServiceToken } },
    handle: async ({ deps: { accounts }, body }) => {
      const { token, record } = await serviceTokenRepository(accounts.db, { now: accounts.now }).create({
        name: body.name, rights: body.rights ?? ["decide"], scope: body.scope ?? null, expiresAt: body.expiresAt == null ? null : new Date(body.expiresAt),
      });
      return created({ token, record: viewServiceToken(record) });
    },
  }),
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/service-tokens/:id`, operationId: "adminGetServiceToken",
    summary: "One service token's record",
    responses: { 200: { description: "The record (never the token).", schema: serviceTokenView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => {
      const record = await serviceTokenRepository(accounts.db).get(params.id);
      if (record === undefined) throw noSuchToken(params.id);
      return ok(viewServiceToken(record));
    },
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/service-tokens/:id/revoke`, operationId: "adminRevokeServiceToken",
    summary: "Revoke a service token (at once, on every instance)",
    responses: { 200: { description: "The record, revoked; revoking again keeps the first time.", schema: serviceTokenView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => {
      const record = await serviceTokenRepository(accounts.db, { now: accounts.now }).revoke(params.id);
      if (record === undefined) throw noSuchToken(params.id);
      return ok(viewServiceToken(record));
    },
  }),
];
