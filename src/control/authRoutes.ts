/**
 * Sign-up, sign-in, sign-out and password change for people: a JSON API under /auth that the
 * dashboard's pages call, answering with the session cookie (sessionAuth.ts) and problem
 * documents. Accounts (accounts.ts) does the work; this file is the edge.
 *
 * - Each route is declared once (defineRoute.ts): its body is read by its zod schema, a 400
 *   names every bad field; bodies are at most SMALL_BODY_LIMIT bytes (413 past it). An account
 *   error (an email taken, a password refused) answers as problems/domainErrors.ts maps it.
 * - Sign-in is throttled (loginThrottle.ts) before any password is checked, by account and client
 *   address and by address alone: each attempt is reserved first, so attempts sent at once cannot
 *   pass it together; unknown emails and wrong passwords give byte-identical 401 answers and
 *   count alike. A disabled account is told so (403 account-disabled), but only after its right
 *   password: without the password nobody learns whether an email has an account. A sign-in the
 *   password checker is too busy for (503) counts
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
import { DEFAULT_PLAN, type Accounts } from "../accounts/accounts.js";
import { loginThrottle, type LoginThrottle, type LoginThrottleOptions } from "../accounts/loginThrottle.js";
import { SIGNUPS_PER_IP, signupThrottle, type SignupThrottle } from "../accounts/signupThrottle.js";
import { type PasswordHasher, PasswordHashingBusy } from "../accounts/passwords.js";
import type { Place } from "../accounts/semaphore.js";
import { SESSION_COOKIE, SessionStore } from "../accounts/sessions.js";
import { UserRepository, type User } from "../accounts/users.js";
import { clientAddress, type TrustFunction } from "../edge/clientAddress.js";
import { addressKey } from "../limits/addressKey.js";
import { problems } from "../problems/catalogue.js";
import { problemOfDomainError } from "../problems/domainErrors.js";
import { ProblemError } from "../problems/problemError.js";
import type { RateLimitStore } from "../stores/store.js";
import { loginBody, passwordChangeBody, signupBody, toUserView, userReply } from "./authBodies.js";
import { created, noContent, ok, registerRoutes, routeFor } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import { RETRY_AFTER_HEADER } from "./routeOpenApi.js";
import { clearSessionCookie, signedInUser, sessionToken, setSessionCookie } from "./sessionAuth.js";
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


/** The same words for an unknown email, a wrong password and a disabled account. */
const BAD_CREDENTIALS_DETAIL = "The email address and password do not match an active account.";

/** What the handlers share, made once at registration. */
interface AuthContext {
  readonly accounts: Accounts;
  readonly logins: LoginThrottle;
  readonly signups: SignupThrottle;
  /** The client's address as the throttles count it. */
  readonly clientIp: (request: FastifyRequest) => string;
}

/** Ends the session the browser carried, if any, and signs it in as `user`. */
async function startSession(accounts: Accounts, request: FastifyRequest, reply: FastifyReply, user: User): Promise<void> {
  const session = await accounts.sessions.rotate(sessionToken(request), user.id);
  setSessionCookie(request, reply, session.token, session.expiresAt);
}

const route = routeFor<AuthContext>();
const tags = ["auth"];
const busy = { description: "Too many passwords are being hashed at once.", headers: RETRY_AFTER_HEADER };
const sessionCookie = {
  "Set-Cookie": {
    description: "The session cookie: `sluice_session` (over HTTPS `__Host-sluice_session`), HttpOnly, SameSite=Lax, Path=/.",
    schema: { type: "string" },
  },
};

/** The /auth endpoints. Changes come from Sluice's own origin only (403), sign-up and sign-in included. */
export const AUTH_ROUTES = [
  route({
    method: "POST", url: "/auth/signup", operationId: "signUp", auth: "none", tags,
    summary: "Create an account (role user, plan free) and sign in",
    description: `Throttled per client address: ${SIGNUPS_PER_IP.limit} sign-ups per hour, whatever their outcome.`,
    body: signupBody,
    responses: { 201: { description: "Created and signed in.", schema: userReply, headers: sessionCookie } },
    problems: {
      409: "An account with this email address exists.",
      429: { description: "Too many sign-ups from this address.", headers: RETRY_AFTER_HEADER },
      503: busy,
    },
    handle: async ({ deps, body, request, reply }) => {
      const allowance = await deps.signups.reserve(deps.clientIp(request));
      if (!allowance.allowed) throw tooMany(allowance.retryAfterSeconds, "sign-ups from your address");
      // An email taken, a password refused, the hashing gate full: answered as domainErrors.ts says.
      const user = await deps.accounts.createUser({ email: body.email, password: body.password, role: "user", plan: DEFAULT_PLAN });
      await startSession(deps.accounts, request, reply, user);
      return created({ user: toUserView(user) });
    },
  }),
  route({
    method: "POST", url: "/auth/login", operationId: "signIn", auth: "none", tags,
    summary: "Sign in: a new session (any session the browser carried ends)",
    description: "Throttled before the password is checked: 5 failures per account and address per 15 minutes, 100 per address per day.",
    body: loginBody,
    responses: { 200: { description: "Signed in.", schema: userReply, headers: sessionCookie } },
    problems: {
      401: "Wrong email or password (one answer for both).",
      403: "Another origin (`cross-site`), or the right password of a disabled account (`account-disabled`).",
      429: { description: "Too many failed sign-ins.", headers: RETRY_AFTER_HEADER },
      503: busy,
    },
    handle: async ({ deps: { accounts, logins, clientIp }, body, request, reply }) => {
      let disabled = false;
      const user = await verifyThrottled(logins, accounts.passwords, clientIp(request), body.email, request, async (place) => {
        const outcome = await accounts.checkSignIn(body.email, body.password, place);
        // The right password of a disabled account: counted as a failure, but told why.
        disabled = outcome === "disabled";
        return outcome === "disabled" ? undefined : outcome;
      });
      if (user === false && disabled) throw new ProblemError(problems.accountDisabled, "This account is disabled; ask an admin to enable it.");
      if (user === false) throw new ProblemError(problems.badCredentials, BAD_CREDENTIALS_DETAIL);
      await startSession(accounts, request, reply, user);
      return ok({ user: toUserView(user) });
    },
  }),
  route({
    method: "POST", url: "/auth/logout", operationId: "signOut", auth: "optionalSession", tags,
    summary: "Sign out: end the session and clear the cookie",
    responses: { 204: { description: "Signed out (also when no session was open).", headers: sessionCookie } },
    handle: async ({ deps: { accounts }, request, reply }) => {
      const token = sessionToken(request);
      if (token !== undefined) await accounts.sessions.revoke(token);
      clearSessionCookie(request, reply);
      return noContent();
    },
  }),
  route({
    method: "GET", url: "/auth/me", operationId: "getSignedInUser", auth: "session", tags,
    summary: "The signed-in user",
    responses: { 200: { description: "The user.", schema: userReply } },
    handle: ({ request }) => ok({ user: toUserView(signedInUser(request)) }),
  }),
  route({
    method: "POST", url: "/auth/password", operationId: "changePassword", auth: "session", tags,
    summary: "Change the password: every session of the user ends, and this browser gets a fresh one",
    body: passwordChangeBody,
    responses: { 204: { description: "Changed; a new session cookie.", headers: sessionCookie } },
    problems: {
      401: "Not signed in (`not-signed-in`), or the current password is wrong (`bad-credentials`, naming currentPassword).",
      429: { description: "Too many wrong current passwords.", headers: RETRY_AFTER_HEADER },
      503: busy,
    },
    handle: async ({ deps: { accounts, logins, clientIp }, body, request, reply }) => {
      const user = signedInUser(request);
      // Throttled like a sign-in: a borrowed session must not become a way to guess the password.
      const verdict = await verifyThrottled(logins, accounts.passwords, clientIp(request), user.email, request, async (place) => {
        const credentials = await accounts.users.findCredentials(user.email);
        return (await accounts.passwords.verify(body.currentPassword, credentials?.passwordHash, place)) ? user : undefined;
      });
      if (verdict === false) {
        throw new ProblemError(problems.badCredentials, "The current password is wrong.", { invalidParams: [{ name: "currentPassword", reason: "not the current password" }] });
      }
      // Checked once the current password is proven: otherwise it would confirm a guess.
      if (body.newPassword === body.currentPassword) throw ProblemError.invalid([{ name: "newPassword", reason: "the same as the current password; choose a new one" }], "request body");
      let passwordHash: string;
      try {
        passwordHash = await accounts.passwords.hash(body.newPassword);
      } catch (error) {
        throw problemOfDomainError(error, "newPassword") ?? error;
      }
      // The new hash and the end of every session, together: no old session outlives the change.
      await accounts.db.transaction(async (tx) => {
        await new UserRepository(tx).setPasswordHash(user.id, passwordHash);
        await new SessionStore(tx).revokeAllFor(user.id);
      });
      const session = await accounts.sessions.create(user.id);
      setSessionCookie(request, reply, session.token, session.expiresAt);
      return noContent();
    },
  }),
];

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  const ipv6Prefix = deps.ipv6Prefix ?? 64;
  registerRoutes(app, AUTH_ROUTES, {
    accounts: deps.accounts,
    logins: loginThrottle(deps.limiterStore, deps.throttle),
    signups: signupThrottle(deps.limiterStore),
    clientIp: (request) => addressKey(clientAddress(request.raw, deps.trust), ipv6Prefix),
  });
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/**
 * Runs `verify` (a password check, on the place given) under the login throttle: the user when
 * it succeeds, false when it fails (counted); throws the 503 busy or 429 throttled answer.
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
  request: FastifyRequest,
  verify: (place: Place) => Promise<User | undefined>,
): Promise<User | false> {
  const place = passwords.checkPlace();
  if (place === undefined) throw new PasswordHashingBusy();
  let user: User | undefined;
  try {
    const allowance = await throttle.reserve(email, ip);
    if (!allowance.allowed) throw tooMany(allowance.retryAfterSeconds, "failed sign-ins");
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
    request.log.warn({ err: error }, "the login throttle could not reset a counter");
  }
  return user;
}

/** 429 with Retry-After, for `what` (e.g. "failed sign-ins"); the detail says the wait as people do. */
function tooMany(seconds: number, what: string): ProblemError {
  return new ProblemError(problems.rateLimited, `Too many ${what}; try again in ${waitInWords(seconds)}.`, undefined, { "retry-after": String(seconds) });
}

/** "40 s", "15 min", "2 h 5 min": a Retry-After of 899 s is "15 min". */
export function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? "" : ` ${minutes % 60} min`}`;
}

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
export const AUTH_OPENAPI_PATHS = openApiPaths(AUTH_ROUTES);

/** The /auth endpoints' part of /openapi.json. */
export const AUTH_OPENAPI: OpenApiSection = {
  tags: [{ name: "auth", description: "Sign up, sign in and out, change a password: a session cookie for the dashboard and the account routes." }],
  paths: AUTH_OPENAPI_PATHS,
  securitySchemes: SESSION_SECURITY_SCHEMES,
};
