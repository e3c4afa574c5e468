/**
 * What the /auth routes read and answer (authRoutes.ts), one zod schema each: the bodies of
 * sign-up, sign-in and password change, and the user as the API shows them (never a password
 * hash). A sign-up's email and password are judged here, so a bad one is a 400 naming it; a
 * sign-in reads what was typed without judging it.
 */
import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from "../accounts/passwords.js";
import { normalizeEmail, ROLES, type User } from "../accounts/users.js";

/** Longest password a sign-in reads, in UTF-16 units: any allowed password (256 code points) fits. */
const MAX_PASSWORD_INPUT = 4 * PASSWORD_MAX_LENGTH;

function isEmail(text: string): boolean {
  try {
    normalizeEmail(text);
    return true;
  } catch {
    return false;
  }
}

const newEmail = z.string()
  .refine(isEmail, "not an email address")
  .meta({ format: "email", maxLength: 254, description: "The account's email address; one account per address, whatever its case.", examples: ["ada@example.com"] });

export const newPassword = z.string()
  .superRefine((password, ctx) => {
    const problem = passwordProblem(password);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters; any characters.`, minLength: PASSWORD_MIN_LENGTH });

// A sign-in reads what was typed without judging it: a malformed address is just a wrong one.
const typedEmail = z.string().min(1).max(320).meta({ examples: ["ada@example.com"] });
const typedPassword = z.string().min(1).max(MAX_PASSWORD_INPUT);

/** POST /auth/signup */
export const signupBody = z.strictObject({ email: newEmail, password: newPassword });
/** POST /auth/login */
export const loginBody = z.strictObject({ email: typedEmail, password: typedPassword });
/** POST /auth/password */
export const passwordChangeBody = z.strictObject({ currentPassword: typedPassword, newPassword });

/** A user as the API shows them: never a password hash. */
export const userView = z.object({
  id: z.string().meta({ format: "uuid" }),
  email: z.string().meta({ description: "As typed at sign-up." }),
  role: z.enum(ROLES),
  plan: z.string().meta({ description: "The plan whose limits the user's keys meet." }),
  createdAt: z.string().meta({ format: "date-time" }),
});
export type UserView = z.infer<typeof userView>;

export function toUserView(user: User): UserView {
  return { id: user.id, email: user.email, role: user.role, plan: user.plan, createdAt: user.createdAt.toISOString() };
}

/** What sign-up, sign-in and /auth/me answer. */
export const userReply = z.object({ user: userView });
