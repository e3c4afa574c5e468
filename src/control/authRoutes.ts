/**
 * Sign-up, sign-in, sign-out and password change for people: a JSON API under /auth that the
 * dashboard's pages call, answering with the session cookie (sessionAuth.ts) and problem
 * documents. Accounts (accounts.ts) does the work; this file is the edge.
 *
 * - Each body is read by one zod schema (parseBody.ts): a 400 names every bad field; bodies
 *   are at most SMALL_BODY_LIMIT bytes (413 past it).
 * - Sign-in is throttled (loginThrottle.ts) before any password is checked, by account and client
 *   address and by address alone: each attempt is reserved first, so attempts sent at once cannot
 *   pass it together; unknown emails and wrong passwords give byte-identical 401 answers and
 *   count alike. A disabled account is told so (403 account-disabled), but only after its right
 *   password: without the password nobody learns whether an email has an account. A sign-in the password checker is too busy for (503) counts
 *   nothing: its place there is taken before the attempt is reserved.
 * - Sign-up is throttled per client address (signupThrottle.ts) before any work; an address that
 *   has an account gets 409 without its password being hashed, and new passwords are hashed
 *   behind a gate of their own (passwords.ts), so sign-ups cannot starve sign-ins.
 * - Every sign-in rotates the session (the token the browser carried is revoked: no fixation);
 *   a password change revokes every session of the user and starts a fresh one.
 * - POSTs are refused from other origins (403 cross-site), sign-up and sign-in included, so no
 *   other site can sign a browser in to an account of its choosing.
 * - Nothing here logs a password or a token, and no answer carries a password hash.
 *
 * @example
 * await registerAuthRoutes(app, { accounts, limiterStore: store });
 * // POST /auth/login {"email":"ada@example.com","password":"…"} → 200 {"user":{…}} + Set-Cookie
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { DEFAULT_PLAN, type Accounts } from "../accounts/accounts.js";
import { loginThrottle, type LoginThrottle, type LoginThrottleOptions } from "../accounts/loginThrottle.js";
import { SIGNUPS_PER_IP, signupThrottle } from "../accounts/signupThrottle.js";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type PasswordHasher, PasswordHashingBusy, PasswordRejected, passwordProblem } from "../accounts/passwords.js";
import type { Place } from "../accounts/semaphore.js";
import { SESSION_COOKIE, SessionStore } from "../accounts/sessions.js";
import { EmailTaken, InvalidEmail, normalizeEmail, ROLES, UserRepository, type User } from "../accounts/users.js";
import { clientAddress, type TrustFunction } from "../edge/clientAddress.js";
import { addressKey } from "../limits/addressKey.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";
import type { RateLimitStore } from "../stores/store.js";
import { jsonRequestBody, jsonResponse, parseBody, problemResponse, replyInvalid, RETRY_AFTER_HEADER, SMALL_BODY_LIMIT } from "./parseBody.js";
import { takesBody } from "./requestBodies.js";
import { clearSessionCookie, isSameOrigin, signedInUser, sessionToken, setSessionCookie, userRequired } from "./sessionAuth.js";
import type { OpenApiSection } from "./openapi.js";

export interface AuthRoutesDeps {
  readonly accounts: Accounts;
  /** The limiter store the login throttle counts failures in. */
  readonly limiterStore: RateLimitStore;
  /** Which X-Forwarded-For hops to believe (server.trustedProxies); default none: the socket's address. */
  readonly trust?: TrustFunction | undefined;
  /** IPv6 clients are counted by this prefix (server.ipv6Prefix), as the gateway counts them; default 64. */
  readonly ipv6Prefix?: number | undefined;
  /** The throttle's policies; default LOGIN_FAILURES_PER_ACCOUNT_IP and LOGIN_FAILURES_PER_IP. */
  readonly throttle?: LoginThrottleOptions | undefined;
}

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

const userReply = z.object({ user: userView });

/** The same words for an unknown email, a wrong password and a disabled account. */
const BAD_CREDENTIALS_DETAIL = "The email address and password do not match an active account.";

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  const { accounts } = deps;
  const throttle = loginThrottle(deps.limiterStore, deps.throttle);
  const signups = signupThrottle(deps.limiterStore);
  const ipv6Prefix = deps.ipv6Prefix ?? 64;
  const clientIp = (request: FastifyRequest) => addressKey(clientAddress(request.raw, deps.trust), ipv6Prefix);
  const form = takesBody(SMALL_BODY_LIMIT);

  /** Ends the session the browser carried, if any, and signs it in as `user`. */
  const startSession = async (request: FastifyRequest, reply: FastifyReply, user: User) => {
    const session = await accounts.sessions.rotate(sessionToken(request), user.id);
    setSessionCookie(request, reply, session.token, session.expiresAt);
  };

  app.post("/auth/signup", form, async function signUp(request, reply) {
    if (!sameOrigin(request, reply)) return reply;
    const body = await parseBody(signupBody, request, reply);
    if (body === undefined) return reply;
    const allowance = await signups.reserve(clientIp(request));
    if (!allowance.allowed) return replyTooMany(reply, allowance.retryAfterSeconds, "sign-ups from your address");
    let user: User;
    try {
      user = await accounts.createUser({ email: body.email, password: body.password, role: "user", plan: DEFAULT_PLAN });
    } catch (error) {
      return replyAccountError(reply, error, "password");
    }
    await startSession(request, reply, user);
    return reply.code(201).header("cache-control", "no-store").send({ user: toUserView(user) });
  });

  app.post("/auth/login", form, async function logIn(request, reply) {
    if (!sameOrigin(request, reply)) return reply;
    const body = await parseBody(loginBody, request, reply);
    if (body === undefined) return reply;
    const ip = clientIp(request);
    let disabled = false;
    const verdict = await verifyThrottled(throttle, accounts.passwords, ip, body.email, reply, async (place) => {
      const outcome = await accounts.checkSignIn(body.email, body.password, place);
      // The right password of a disabled account: counted as a failure, but told why.
      disabled = outcome === "disabled";
      return outcome === "disabled" ? undefined : outcome;
    });
    if (verdict === undefined) return reply;
    if (verdict === false && disabled) return replyProblem(reply, problems.accountDisabled, "This account is disabled; ask an admin to enable it.");
    if (verdict === false) return replyProblem(reply, problems.badCredentials, BAD_CREDENTIALS_DETAIL);
    await startSession(request, reply, verdict);
    return reply.header("cache-control", "no-store").send({ user: toUserView(verdict) });
  });

  app.post("/auth/logout", async function logOut(request, reply) {
    if (!sameOrigin(request, reply)) return reply;
    const token = sessionToken(request);
    if (token !== undefined) await accounts.sessions.revoke(token);
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  // The session is checked first, before any body is read (requestBodies.ts).
  const signedIn = { onRequest: userRequired(accounts) };

  app.get("/auth/me", signedIn, function me(request, reply) {
    return reply.header("cache-control", "no-store").send({ user: toUserView(signedInUser(request)) });
  });

  app.post("/auth/password", { ...signedIn, ...form }, async function changePassword(request, reply) {
    const user = signedInUser(request);
    const body = await parseBody(passwordChangeBody, request, reply);
    if (body === undefined) return reply;
    // Throttled like a sign-in: a borrowed session must not become a way to guess the password.
    const verdict = await verifyThrottled(throttle, accounts.passwords, clientIp(request), user.email, reply, async (place) => {
      const credentials = await accounts.users.findCredentials(user.email);
      return (await accounts.passwords.verify(body.currentPassword, credentials?.passwordHash, place)) ? user : undefined;
    });
    if (verdict === undefined) return reply;
    if (verdict === false) {
      return replyProblem(reply, problems.badCredentials, "The current password is wrong.", { invalidParams: [{ name: "currentPassword", reason: "not the current password" }] });
    }
    // Checked once the current password is proven: otherwise it would confirm a guess.
    if (body.newPassword === body.currentPassword) return replyInvalid(reply, [{ name: "newPassword", reason: "the same as the current password; choose a new one" }]);
    let passwordHash: string;
    try {
      passwordHash = await accounts.passwords.hash(body.newPassword);
    } catch (error) {
      return replyAccountError(reply, error, "newPassword");
    }
    // The new hash and the end of every session, together: no old session outlives the change.
    await accounts.db.transaction(async (tx) => {
      await new UserRepository(tx).setPasswordHash(user.id, passwordHash);
      await new SessionStore(tx).revokeAllFor(user.id);
    });
    const session = await accounts.sessions.create(user.id);
    setSessionCookie(request, reply, session.token, session.expiresAt);
    return reply.code(204).send();
  });

  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** Cookie-free POSTs (sign-up, sign-in, sign-out) still come from this origin only; answers 403 otherwise. */
function sameOrigin(request: FastifyRequest, reply: FastifyReply): boolean {
  if (isSameOrigin(request)) return true;
  void replyProblem(reply, problems.crossSite, "This request must come from Sluice's own pages.");
  return false;
}

/**
 * Runs `verify` (a password check, on the place given) under the login throttle: the user when
 * it succeeds, false when it fails (counted), undefined when it has answered instead (503 busy,
 * 429 throttled).
 *
 * The place at the password checks' gate is taken before the throttle counts the attempt, so a
 * sign-in refused as busy costs none; a place taken and then refused by the throttle is left at
 * once, never holding the gate's queue. (Its turn may come while the throttle's store answers:
 * a permit then waits one store round trip.)
 */
async function verifyThrottled(
  throttle: LoginThrottle,
  passwords: PasswordHasher,
  ip: string,
  email: string,
  reply: FastifyReply,
  verify: (place: Place) => Promise<User | undefined>,
): Promise<User | false | undefined> {
  const place = passwords.checkPlace();
  if (place === undefined) {
    await replyAccountError(reply, new PasswordHashingBusy(), "password");
    return undefined;
  }
  let user: User | undefined;
  try {
    const allowance = await throttle.reserve(email, ip);
    if (!allowance.allowed) {
      await replyTooMany(reply, allowance.retryAfterSeconds, "failed sign-ins");
      return undefined;
    }
    user = await verify(place);
  } finally {
    place.leave();
  }
  if (user === undefined) {
    await throttle.failed(email, ip);
    return false;
  }
  try {
    await throttle.succeeded(email, ip);
  } catch (error) {
    // The sign-in stands; the failures it should have forgiven expire with their window.
    reply.log.warn({ err: error }, "the login throttle could not reset a counter");
  }
  return user;
}

/** 429 with Retry-After, for `what` (e.g. "failed sign-ins"); the detail says the wait as people do. */
function replyTooMany(reply: FastifyReply, seconds: number, what: string): FastifyReply {
  return replyProblem(reply.header("retry-after", String(seconds)), problems.rateLimited, `Too many ${what}; try again in ${waitInWords(seconds)}.`);
}

/** "40 s", "15 min", "2 h 5 min": a Retry-After of 899 s is "15 min". */
export function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? "" : ` ${minutes % 60} min`}`;
}

/** Answers an Accounts error a client can act on; anything else is rethrown (a 500). */
function replyAccountError(reply: FastifyReply, error: unknown, passwordField: string): FastifyReply {
  if (error instanceof EmailTaken) return replyProblem(reply, problems.conflict, "An account with this email address exists already; sign in instead.");
  if (error instanceof InvalidEmail) return replyInvalid(reply, [{ name: "email", reason: "not an email address" }]);
  if (error instanceof PasswordRejected) return replyInvalid(reply, [{ name: passwordField, reason: error.message }]);
  if (error instanceof PasswordHashingBusy) return replyProblem(reply.header("retry-after", "1"), problems.busy, "Too many passwords are being checked at once; try again in a second.");
  throw error;
}

const json = (schema: z.ZodType) => jsonRequestBody(schema);
const crossSite = problemResponse("The request came from another origin.");
const invalid = problemResponse("A field is invalid; `invalidParams` names each.");
const tooLarge = problemResponse(`The body is larger than ${SMALL_BODY_LIMIT} bytes.`);
const busy = problemResponse("Too many passwords are being hashed at once.", RETRY_AFTER_HEADER);
const notSignedIn = problemResponse("No valid session cookie.");
const sessionCookie = {
  "Set-Cookie": {
    description: "The session cookie: `sluice_session` (over HTTPS `__Host-sluice_session`), HttpOnly, SameSite=Lax, Path=/.",
    schema: { type: "string" },
  },
};

/** The cookie that signs a browser in; names the scheme AUTH_OPENAPI_PATHS and ACCOUNT_OPENAPI_PATHS require. */
export const SESSION_SECURITY_SCHEMES = {
  session: {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "The session cookie set by POST /auth/login or /auth/signup (named `__Host-sluice_session` over HTTPS). " +
      "Changes made with it must come from Sluice's own origin.",
  },
} as const;

/** The /auth endpoints as an OpenAPI 3.1 `paths` fragment. */
export const AUTH_OPENAPI_PATHS = {
  "/auth/signup": {
    post: {
      tags: ["auth"],
      summary: "Create an account (role user, plan free) and sign in",
      description: `Throttled per client address: ${SIGNUPS_PER_IP.limit} sign-ups per hour, whatever their outcome.`,
      security: [],
      requestBody: json(signupBody),
      responses: {
        "201": jsonResponse("Created and signed in.", userReply, sessionCookie),
        "400": invalid,
        "403": crossSite,
        "409": problemResponse("An account with this email address exists."),
        "413": tooLarge,
        "429": problemResponse("Too many sign-ups from this address.", RETRY_AFTER_HEADER),
        "503": busy,
      },
    },
  },
  "/auth/login": {
    post: {
      tags: ["auth"],
      summary: "Sign in: a new session (any session the browser carried ends)",
      description: "Throttled before the password is checked: 5 failures per account and address per 15 minutes, 100 per address per day.",
      security: [],
      requestBody: json(loginBody),
      responses: {
        "200": jsonResponse("Signed in.", userReply, sessionCookie),
        "400": invalid,
        "401": problemResponse("Wrong email or password (one answer for both)."),
        "403": problemResponse("Another origin (`cross-site`), or the right password of a disabled account (`account-disabled`)."),
        "413": tooLarge,
        "429": problemResponse("Too many failed sign-ins.", RETRY_AFTER_HEADER),
        "503": busy,
      },
    },
  },
  "/auth/logout": {
    post: {
      tags: ["auth"],
      summary: "Sign out: end the session and clear the cookie",
      security: [{ session: [] }, {}],
      responses: {
        "204": { description: "Signed out (also when no session was open).", headers: sessionCookie },
        "403": crossSite,
      },
    },
  },
  "/auth/me": {
    get: {
      tags: ["auth"],
      summary: "The signed-in user",
      security: [{ session: [] }],
      responses: { "200": jsonResponse("The user.", userReply), "401": notSignedIn },
    },
  },
  "/auth/password": {
    post: {
      tags: ["auth"],
      summary: "Change the password: every session of the user ends, and this browser gets a fresh one",
      security: [{ session: [] }],
      requestBody: json(passwordChangeBody),
      responses: {
        "204": { description: "Changed; a new session cookie.", headers: sessionCookie },
        "400": invalid,
        "401": problemResponse("Not signed in (`not-signed-in`), or the current password is wrong (`bad-credentials`, naming currentPassword)."),
        "403": crossSite,
        "413": tooLarge,
        "429": problemResponse("Too many wrong current passwords.", RETRY_AFTER_HEADER),
        "503": busy,
      },
    },
  },
} as const;

/** The /auth endpoints' part of /openapi.json. */
export const AUTH_OPENAPI: OpenApiSection = {
  tags: [{ name: "auth", description: "Sign up, sign in and out, change a password: a session cookie for the dashboard and the account routes." }],
  paths: AUTH_OPENAPI_PATHS,
  securitySchemes: SESSION_SECURITY_SCHEMES,
};
