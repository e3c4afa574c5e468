/**
 * The admin API's API keys, every user's: list newest first, create for a user (with a plan of
 * its own if asked), read, revoke, and rotate with a grace period for the old key. A new key's
 * plaintext appears once, in the answer that creates it.
 */
import { z } from "zod";
import { MAX_PAGE_SIZE } from "../../accounts/users.js";
import { nameSchema } from "../../config/schema.js";
import { problems } from "../../problems/catalogue.js";
import { ProblemError } from "../../problems/problemError.js";
import { created, ok } from "../defineRoute.js";
import { writePendingKeyUses } from "../keyUses.js";
import { adminRoute, ADMIN_API_PREFIX, ADMIN_BODY_LIMIT, DEFAULT_LIST_SIZE, notFound } from "./adminRoute.js";
import { flag, isoTime, keyView, viewKey } from "./adminViews.js";

const keyListQuery = z.strictObject({
  userId: z.uuid().optional(),
  includeRevoked: flag.optional().describe("Revoked keys are left out unless true."),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`1–${MAX_PAGE_SIZE}; default 50.`),
  offset: z.coerce.number().int().min(0).optional(),
});

const newKeyBody = z.strictObject({
  userId: z.uuid().describe("The owner."),
  name: z.string().trim().min(1).max(100),
  scopes: z.array(nameSchema).max(100).nullable().optional().describe("Services the key may call; null or absent: all."),
  plan: z.string().nullable().optional().describe("Overrides the owner's plan; null or absent: the owner's."),
  expiresAt: isoTime.nullable().optional(),
});

const rotateBody = z.strictObject({
  graceSeconds: z.number().int().min(0).max(30 * 24 * 3600).optional().describe("How long the old key keeps working; default 0."),
});

const keyPage = z.object({ items: z.array(keyView), nextOffset: z.int().optional().describe("Present when more keys follow.") });
const newKey = z.object({ key: z.string().describe("The key: shown this once, never again."), record: keyView });
const rotatedKey = newKey.extend({ replaced: keyView.describe("The old key, now expiring after the grace period.") });

const noSuchKey = (id: string) => notFound(`API key with id "${id}"`);
const base = { auth: "admin", tags: ["admin: keys"], bodyLimit: ADMIN_BODY_LIMIT } as const;

export const KEY_ROUTES = [
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/keys`, operationId: "adminListKeys",
    summary: "List API keys, newest first",
    query: keyListQuery,
    responses: { 200: { description: "One page; `nextOffset` when more follow.", schema: keyPage } },
    handle: async ({ deps: { accounts }, query, request }) => {
      await writePendingKeyUses(accounts, request.log);
      const limit = query.limit ?? DEFAULT_LIST_SIZE;
      const offset = query.offset ?? 0;
      // One more than a page: whether another follows.
      const keys = await accounts.apiKeys.list({ userId: query.userId, includeRevoked: query.includeRevoked, limit: limit + 1, offset });
      return ok({ items: keys.slice(0, limit).map(viewKey), ...(keys.length > limit && { nextOffset: offset + limit }) });
    },
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/keys`, operationId: "adminCreateKey",
    summary: "Create an API key for a user",
    body: newKeyBody,
    responses: { 201: { description: "The key, shown this once, and its record.", schema: newKey } },
    handle: async ({ deps: { accounts }, body }) => {
      if ((await accounts.users.findById(body.userId)) === undefined) throw ProblemError.invalid([{ name: "userId", reason: "no such user" }], "request body");
      if (body.plan != null && (await accounts.plans.get(body.plan)) === undefined) throw ProblemError.invalid([{ name: "plan", reason: `no plan named "${body.plan}"` }], "request body");
      const { key, record } = await accounts.apiKeys.create(body.userId, {
        name: body.name, scopes: body.scopes, plan: body.plan, expiresAt: body.expiresAt == null ? body.expiresAt : new Date(body.expiresAt),
      });
      return created({ key, record: viewKey(record) });
    },
  }),
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/keys/:id`, operationId: "adminGetKey",
    summary: "One API key's record",
    responses: { 200: { description: "The record (never the key).", schema: keyView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => {
      const record = await accounts.apiKeys.get(params.id);
      if (record === undefined) throw noSuchKey(params.id);
      return ok(viewKey(record));
    },
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/keys/:id/revoke`, operationId: "adminRevokeKey",
    summary: "Revoke an API key (at once, on every instance)",
    responses: { 200: { description: "The record, revoked; revoking again keeps the first time.", schema: keyView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => {
      const record = await accounts.apiKeys.revoke(params.id);
      if (record === undefined) throw noSuchKey(params.id);
      return ok(viewKey(record));
    },
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/keys/:id/rotate`, operationId: "adminRotateKey",
    summary: "Replace an API key with a new one; the old one works for a grace period",
    body: rotateBody, bodyOptional: true,
    responses: { 201: { description: "The new key, shown this once, its record, and the old key's record.", schema: rotatedKey } },
    problems: { 404: problems.notFound.title, 409: problems.conflict.title },
    handle: async ({ deps: { accounts }, params, body }) => {
      const rotated = await accounts.apiKeys.rotate(params.id, (body.graceSeconds ?? 0) * 1000);
      if (rotated === undefined) {
        if ((await accounts.apiKeys.get(params.id)) === undefined) throw noSuchKey(params.id);
        throw new ProblemError(problems.conflict, "The key is revoked, expired or already replaced.");
      }
      return created({ key: rotated.key, record: viewKey(rotated.record), replaced: viewKey(rotated.replaced) });
    },
  }),
];
