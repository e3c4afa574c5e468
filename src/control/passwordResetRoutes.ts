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
import { PasswordHashingBusy, PasswordRejected } from "../accounts/passwords.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import { newPassword, toUserView } from "./authRoutes.js";
import { jsonRequestBody, jsonResponse, parseBody, problemResponse, replyInvalid, SMALL_BODY_LIMIT } from "./parseBody.js";
import { takesBody } from "./requestBodies.js";
import { isSameOrigin, requireAdmin, setSessionCookie } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";

export interface PasswordResetRoutesDeps {
  readonly accounts: Accounts;
  readonly adminToken: string | undefined;
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

export function registerPasswordResetRoutes(app: FastifyInstance, deps: PasswordResetRoutesDeps): Promise<void> {
  const { accounts } = deps;
  const resets = new PasswordResets(accounts.db, accounts.now);

  app.post<{ Params: { id: string } }>("/admin/api/users/:id/password-reset", async function issuePasswordReset(request, reply) {
    if ((await requireAdmin(request, reply, accounts, deps.adminToken)) === undefined) return reply;
    const { id } = request.params;
    const user = z.uuid().safeParse(id).success ? await accounts.users.findById(id) : undefined;
    if (user === undefined) return replyProblem(reply, problems.notFound, `There is no user with id "${id}".`);
    const issued = await resets.issue(user.id);
    return reply.code(201).header("cache-control", "no-store").send({ token: issued.token, expiresAt: issued.expiresAt.toISOString() });
  });

  app.post("/auth/reset", takesBody(SMALL_BODY_LIMIT), async function resetPassword(request, reply) {
    if (!isSameOrigin(request)) return replyProblem(reply, problems.crossSite, "This request must come from Sluice's own pages.");
    const body = await parseBody(resetBody, request, reply);
    if (body === undefined) return reply;
    // Checked before the new password is hashed: a dead token costs no hashing.
    if ((await resets.peek(body.token)) === undefined) return replyInvalid(reply, [{ name: "token", reason: DEAD_TOKEN }]);
    let passwordHash: string;
    try {
      passwordHash = await accounts.passwords.hash(body.newPassword);
    } catch (error) {
      if (error instanceof PasswordRejected) return replyInvalid(reply, [{ name: "newPassword", reason: error.message }]);
      if (error instanceof PasswordHashingBusy) return replyProblem(reply.header("retry-after", "1"), problems.busy, "Too many passwords are being checked at once; try again in a second.");
      throw error;
    }
    const userId = await resets.redeem(body.token, passwordHash);
    const user = userId === undefined ? undefined : await accounts.users.findById(userId);
    if (user === undefined) return replyInvalid(reply, [{ name: "token", reason: DEAD_TOKEN }]);
    if (user.disabledAt !== null) return replyProblem(reply, problems.accountDisabled, "Your new password is set, but your account is disabled; ask an admin to enable it.");
    const session = await accounts.sessions.create(user.id);
    setSessionCookie(request, reply, session.token, session.expiresAt);
    return reply.header("cache-control", "no-store").send({ user: toUserView(user) });
  });

  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** The two endpoints in /openapi.json. */
export const PASSWORD_RESET_OPENAPI: OpenApiSection = {
  tags: [],
  paths: {
    "/auth/reset": {
      post: {
        tags: ["auth"],
        summary: "Set a new password with a one-time reset token an admin issued, and sign in",
        security: [],
        requestBody: jsonRequestBody(resetBody),
        responses: {
          "200": jsonResponse("The password is set and this browser signed in; every other session ended.", z.object({ user: z.object({}).passthrough() })),
          "400": problemResponse("A field is invalid, or the token is not a live one; `invalidParams` names it."),
          "403": problemResponse("Another origin (`cross-site`), or the account is disabled (`account-disabled`)."),
        },
      },
    },
    "/admin/api/users/{id}/password-reset": {
      post: {
        tags: ["admin: users"],
        summary: "Issue a one-time password reset token for a user (valid a day; an earlier one stops working)",
        security: [{ adminToken: [] }, { session: [] }],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
        responses: {
          "201": jsonResponse("The token, shown this once.", issuedReset),
          "401": problemResponse("Not signed in."),
          "403": problemResponse("Not an admin, or another origin."),
          "404": problemResponse("No such user."),
        },
      },
    },
  },
  securitySchemes: {},
};
