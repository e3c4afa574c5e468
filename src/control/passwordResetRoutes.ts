/**
 * Password resets without email (passwordResets.ts): an admin asks for a one-time token and
 * passes the link on; the user opens it and sets a new password.
 *
 * - `POST /admin/api/users/:id/password-reset` (an admin's session or the operator's token):
 *   201 `{ token, expiresAt }`; the token is in this answer only. `sluice users reset-password`
 *   does the same from the command line.
 * - `POST /auth/reset {token, newPassword}` (from Sluice's own pages only): sets the password,
 *   ends every other session of the user and signs this browser in. An unknown, used or expired
 *   token is a 400 naming `token`; it reveals nothing about any account. A disabled account's
 *   password is set, but it is told it is disabled (403 account-disabled) and not signed in.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $SLUICE_ADMIN_TOKEN" http://127.0.0.1:8080/admin/api/users/6f1c…/password-reset
 * // → 201 {"token":"Zq…","expiresAt":"…"}; the user opens http://127.0.0.1:8080/#/reset?token=Zq…
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import { PasswordResets } from "../accounts/passwordResets.js";
import { problems } from "../problems/catalogue.js";
import { problemOfDomainError } from "../problems/domainErrors.js";
import { ProblemError } from "../problems/problemError.js";
import { newPassword, toUserView, userReply } from "./authBodies.js";
import { created, ok, registerRoutes, routeFor } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import { setSessionCookie } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";

export interface PasswordResetRoutesDeps {
  readonly accounts: Accounts;
  readonly adminToken: string | undefined;
  readonly resets: PasswordResets;
}

/** POST /auth/reset */
export const resetBody = z.strictObject({
  token: z.string().min(1).max(100).meta({ description: "The token of the reset link an admin gave." }),
  newPassword,
});

const issuedReset = z.object({
  token: z.string().meta({ description: "Shown this once: the user opens `/#/reset?token=<token>`." }),
  expiresAt: z.string().meta({ format: "date-time" }),
});

const DEAD_TOKEN = "not a live reset link (unknown, used already, or more than a day old); ask an admin for a new one";
const deadToken = () => ProblemError.invalid([{ name: "token", reason: DEAD_TOKEN }], "request body");

const route = routeFor<PasswordResetRoutesDeps>();

export const PASSWORD_RESET_ROUTES = [
  route({
    method: "POST", url: "/admin/api/users/:id/password-reset", operationId: "adminIssuePasswordReset", auth: "admin", tags: ["admin: users"],
    summary: "Issue a one-time password reset token for a user (valid a day; an earlier one stops working)",
    params: z.object({ id: z.string().meta({ format: "uuid" }) }),
    responses: { 201: { description: "The token, shown this once.", schema: issuedReset } },
    problems: { 404: "No such user." },
    handle: async ({ deps: { accounts, resets }, params: { id } }) => {
      const user = z.uuid().safeParse(id).success ? await accounts.users.findById(id) : undefined;
      if (user === undefined) throw new ProblemError(problems.notFound, `There is no user with id "${id}".`);
      const issued = await resets.issue(user.id);
      return created({ token: issued.token, expiresAt: issued.expiresAt.toISOString() });
    },
  }),
  route({
    method: "POST", url: "/auth/reset", operationId: "resetPassword", auth: "none", tags: ["auth"],
    summary: "Set a new password with a one-time reset token an admin issued, and sign in",
    body: resetBody,
    responses: { 200: { description: "The password is set and this browser signed in; every other session ended.", schema: userReply } },
    problems: {
      400: "A field is invalid, or the token is not a live one; `invalidParams` names it.",
      403: "Another origin (`cross-site`), or the account is disabled (`account-disabled`).",
    },
    handle: async ({ deps: { accounts, resets }, body, request, reply }) => {
      // Checked before the new password is hashed: a dead token costs no hashing.
      if ((await resets.peek(body.token)) === undefined) throw deadToken();
      let passwordHash: string;
      try {
        passwordHash = await accounts.passwords.hash(body.newPassword);
      } catch (error) {
        throw problemOfDomainError(error, "newPassword") ?? error;
      }
      const userId = await resets.redeem(body.token, passwordHash);
      const user = userId === undefined ? undefined : await accounts.users.findById(userId);
      if (user === undefined) throw deadToken();
      if (user.disabledAt !== null) throw new ProblemError(problems.accountDisabled, "Your new password is set, but your account is disabled; ask an admin to enable it.");
      const session = await accounts.sessions.create(user.id);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      return ok({ user: toUserView(user) });
    },
  }),
];

export function registerPasswordResetRoutes(app: FastifyInstance, deps: Omit<PasswordResetRoutesDeps, "resets">): Promise<void> {
  registerRoutes(app, PASSWORD_RESET_ROUTES, { ...deps, resets: new PasswordResets(deps.accounts.db, deps.accounts.now) });
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** The two endpoints in /openapi.json. */
export const PASSWORD_RESET_OPENAPI: OpenApiSection = {
  tags: [],
  paths: openApiPaths(PASSWORD_RESET_ROUTES),
  securitySchemes: {},
};
