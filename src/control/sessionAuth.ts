/**
 * Who is calling the control plane: a signed-in user (a session cookie), an admin, or an
 * operator with the admin token. Shared by the account routes, the admin API and the dashboard.
 *
 * - Session cookie: `HttpOnly`, `SameSite=Lax`, path `/`; over HTTPS (also behind a trusted
 *   TLS proxy) also `Secure` and named with the `__Host-` prefix (no Domain, so no other host can
 *   set or read it). The token is random; the database keeps only its SHA-256 (sessions.ts).
 * - Cross-site requests: a state-changing request authenticated by the cookie must come from
 *   this origin: `Origin` (or, without it, `Sec-Fetch-Site`) is checked, so another site's page
 *   cannot make a signed-in browser act (CSRF). JSON bodies add a second guard, since a
 *   cross-site form cannot send `application/json` without a CORS preflight Sluice never grants.
 * - Admin token: `Authorization: Bearer <SLUICE_ADMIN_TOKEN>`, compared in constant time.
 */
// The cookie plugin (registered by the control plane) adds request.cookies and reply.setCookie.
import type {} from "@fastify/cookie";
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { Accounts } from "../accounts/accounts.js";
import { bearerToken, sameSecret } from "../accounts/bearerToken.js";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../accounts/sessions.js";
import type { User } from "../accounts/users.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Whether the browser reached Sluice over HTTPS: directly, or through a TLS-terminating proxy in
 * `server.trustedProxies` that says so in X-Forwarded-Proto (the control plane's Fastify trusts
 * the same proxies as the gateway). From anyone else the header is ignored.
 */
export function isHttps(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

export function sessionCookieName(request: FastifyRequest): string {
  return isHttps(request) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** Sets the session cookie on the reply; `expiresAt` makes it a persistent cookie that ends with the session. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date): void {
  reply.setCookie(sessionCookieName(request), token, { path: "/", httpOnly: true, sameSite: "lax", secure: isHttps(request), expires: expiresAt });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName(request), { path: "/", httpOnly: true, sameSite: "lax", secure: isHttps(request) });
}

/** The session token the request carries, if any. */
export function sessionToken(request: FastifyRequest): string | undefined {
  return request.cookies[sessionCookieName(request)] || undefined;
}

/** The signed-in user, or undefined: no cookie, an unknown or expired session, a disabled user. */
export async function currentUser(request: FastifyRequest, accounts: Accounts): Promise<User | undefined> {
  const token = sessionToken(request);
  return token === undefined ? undefined : accounts.sessionUser(token);
}

/**
 * True when a state-changing request comes from this origin. Safe methods always pass. Browsers
 * send `Origin` on cross-origin requests and on same-origin POSTs; a request with neither
 * `Origin` nor `Sec-Fetch-Site` is not from a browser page, so no browser's cookie rides on it
 * unawares (curl, scripts).
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  if (!UNSAFE_METHODS.has(request.method)) return true;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
  const site = request.headers["sec-fetch-site"];
  return site === undefined || site === "same-origin" || site === "none";
}

/** Who may call the admin API: an admin's session, or the operator's token. */
export type AdminCaller = { readonly kind: "user"; readonly user: User } | { readonly kind: "token" };

/** Compares the presented bearer token with the configured admin token in constant time. */
export function isAdminToken(request: FastifyRequest, adminToken: string | undefined): boolean {
  const token = bearerToken(request.headers.authorization);
  return !!adminToken && token !== undefined && sameSecret(token, adminToken);
}

/**
 * Resolves the signed-in user for a route that needs one, or answers for it: 401 when nobody is
 * signed in, 403 when a cookie-authenticated change comes from another origin. Returns undefined
 * when it has answered.
 */
export async function requireUser(request: FastifyRequest, reply: FastifyReply, accounts: Accounts): Promise<User | undefined> {
  const user = await currentUser(request, accounts);
  if (user === undefined) {
    await replyProblem(reply, problems.notSignedIn, "Sign in first: POST /auth/login.");
    return undefined;
  }
  if (!isSameOrigin(request)) {
    await replyProblem(reply, problems.crossSite, "This change must come from Sluice's own pages.");
    return undefined;
  }
  return user;
}

/** Users found by `userRequired`, for their requests' handlers. */
const signedInUsers = new WeakMap<FastifyRequest, User>();

/**
 * The onRequest hook of a route that needs a signed-in user: answers as requireUser does (401,
 * 403 cross-site) before the request's body is read; the handler reads the user with `signedInUser`.
 */
export function userRequired(accounts: Accounts): onRequestAsyncHookHandler {
  return async function requireSignedInUser(request, reply) {
    const user = await requireUser(request, reply, accounts);
    if (user === undefined) return reply;
    signedInUsers.set(request, user);
    return undefined;
  };
}

/** The user `userRequired` found for this request; throws on a route without that hook (a bug). */
export function signedInUser(request: FastifyRequest): User {
  const user = signedInUsers.get(request);
  if (user === undefined) throw new Error(`${request.method} ${request.routeOptions.url ?? request.url} reads the signed-in user without the userRequired hook`);
  return user;
}

/** As requireUser, for the admin API: the admin token, or an admin's session. 403 for other users. */
export async function requireAdmin(request: FastifyRequest, reply: FastifyReply, accounts: Accounts, adminToken: string | undefined): Promise<AdminCaller | undefined> {
  if (isAdminToken(request, adminToken)) return { kind: "token" };
  const user = await requireUser(request, reply, accounts);
  if (user === undefined) return undefined;
  if (user.role !== "admin") {
    await replyProblem(reply, problems.forbidden, "This needs an admin.");
    return undefined;
  }
  return { kind: "user", user };
}
