/**
 * The admin API's users: list by email address a page at a time, create, read, and change a
 * user's plan, role or disabled state. The accounts' refusals (an email taken, a password or
 * plan rejected, a cursor not handed out) answer as problems/domainErrors.ts maps them.
 */
import { z } from "zod";
import type { Accounts } from "../../accounts/accounts.js";
import { SessionStore } from "../../accounts/sessions.js";
import { MAX_PAGE_SIZE, ROLES, UserRepository, type User } from "../../accounts/users.js";
import { problems } from "../../problems/catalogue.js";
import { ProblemError } from "../../problems/problemError.js";
import { created, ok } from "../defineRoute.js";
import { adminRoute, ADMIN_API_PREFIX, ADMIN_BODY_LIMIT, notFound } from "./adminRoute.js";
import { flag, userView, viewUser } from "./adminViews.js";

const userListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Page size, 1–${MAX_PAGE_SIZE}; default 50.`),
  cursor: z.string().optional().describe("`nextCursor` of the previous page."),
  role: z.enum(ROLES).optional(),
  plan: z.string().optional(),
  disabled: flag.optional().describe("true: disabled accounts only; false: enabled ones only."),
  email: z.string().max(254).optional().describe("Case-insensitive part of the email address."),
});

const newUserBody = z.strictObject({
  email: z.string().max(1000).describe("At most 254 characters once trimmed; unique whatever its case."),
  password: z.string().max(4096).describe("8 to 256 characters."),
  role: z.enum(ROLES).optional().describe('Default "user".'),
  plan: z.string().optional().describe('Default "free".'),
});

const userPatchBody = z.strictObject({
  plan: z.string().optional(),
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional().describe("true also ends the user's sessions; their keys stop verifying."),
});

const userPage = z.object({ items: z.array(userView), total: z.int(), nextCursor: z.string().optional() });

/** The user, or the 404. */
async function existingUser(users: UserRepository, id: string): Promise<User> {
  const user = await users.findById(id);
  if (user === undefined) throw notFound(`user with id "${id}"`);
  return user;
}

/**
 * Applies a patch in one transaction: role, plan and disabled change together or not at all, and
 * disabling ends the user's sessions with it. The last enabled admin may be neither demoted nor
 * disabled: the enabled admins are counted under a row lock, so concurrent patches cannot each
 * remove one of the last two.
 */
async function patchUser(accounts: Accounts, id: string, patch: z.output<typeof userPatchBody>): Promise<User> {
  return accounts.db.transaction(async (tx) => {
    const users = new UserRepository(tx);
    let user = await existingUser(users, id);
    const losesAdmin = user.role === "admin" && user.disabledAt === null && (patch.role === "user" || patch.disabled === true);
    if (losesAdmin && (await users.countAdmins({ lock: true })) <= 1) {
      throw new ProblemError(problems.conflict, "This is the last enabled admin: make another admin first.");
    }
    if (patch.plan !== undefined) user = (await users.setPlan(id, patch.plan)) ?? user;
    if (patch.role !== undefined) user = (await users.setRole(id, patch.role)) ?? user;
    if (patch.disabled !== undefined) {
      user = (await users.setDisabled(id, patch.disabled)) ?? user;
      if (patch.disabled) await new SessionStore(tx).revokeAllFor(id);
    }
    return user;
  });
}

const base = { auth: "admin", tags: ["admin: users"], bodyLimit: ADMIN_BODY_LIMIT } as const;

export const USER_ROUTES = [
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/users`, operationId: "adminListUsers",
    summary: "List users, by email address, a page at a time",
    query: userListQuery,
    responses: { 200: { description: "One page; follow `nextCursor` for the next.", schema: userPage } },
    handle: async ({ deps: { accounts }, query }) => {
      const { email, ...rest } = query;
      const page = await accounts.users.list({ ...rest, emailContains: email });
      return ok({ items: page.items.map(viewUser), total: page.total, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) });
    },
  }),
  adminRoute({
    ...base, method: "POST", url: `${ADMIN_API_PREFIX}/users`, operationId: "adminCreateUser",
    summary: "Create a user",
    body: newUserBody,
    responses: { 201: { description: "The new user.", schema: userView } },
    problems: { 409: problems.conflict.title, 503: problems.busy.title },
    handle: async ({ deps: { accounts }, body: { role, plan, ...credentials } }) =>
      created(viewUser(await accounts.createUser({ ...credentials, ...(role !== undefined && { role }), ...(plan !== undefined && { plan }) }))),
  }),
  adminRoute({
    ...base, method: "GET", url: `${ADMIN_API_PREFIX}/users/:id`, operationId: "adminGetUser",
    summary: "One user",
    responses: { 200: { description: "The user.", schema: userView } },
    problems: { 404: problems.notFound.title },
    handle: async ({ deps: { accounts }, params }) => ok(viewUser(await existingUser(accounts.users, params.id))),
  }),
  adminRoute({
    ...base, method: "PATCH", url: `${ADMIN_API_PREFIX}/users/:id`, operationId: "adminUpdateUser",
    summary: "Change a user's plan, role or disabled state",
    body: userPatchBody,
    responses: { 200: { description: "The user as changed.", schema: userView } },
    problems: { 404: problems.notFound.title, 409: problems.conflict.title },
    handle: async ({ deps: { accounts }, params, body }) => ok(viewUser(await patchUser(accounts, params.id, body))),
  }),
];
