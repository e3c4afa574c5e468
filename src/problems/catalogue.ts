/**
 * Every error Sluice answers with, declared once: a stable code (tests assert the code, never
 * the wording), the HTTP status, a public title, and a slug that forms the problem's `type` URI
 * (`/problems/<slug>`, served by the gateway itself so the type is dereferenceable).
 */
export interface ProblemKind {
  readonly code: `SLUICE_ERR_${string}`;
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  /** Shown on the /problems/<slug> page: what the client can do about it. */
  readonly help: string;
}

function kind(code: ProblemKind["code"], status: number, slug: string, title: string, help: string): ProblemKind {
  return { code, status, slug, title, help };
}

export const problems = {
  badRequest: kind("SLUICE_ERR_BAD_REQUEST", 400, "bad-request", "Bad request",
    "The request is malformed or a parameter is invalid; the detail names it. Fix the request and send it again."),
  badPath: kind("SLUICE_ERR_BAD_PATH", 400, "bad-path", "Path not allowed",
    "The path contains dot segments, encoded separators or control characters. Send the plain path."),
  unauthorized: kind("SLUICE_ERR_UNAUTHORIZED", 401, "unauthorized", "Missing or invalid API key",
    "Send a valid API key in the x-api-key header."),
  requestTimeout: kind("SLUICE_ERR_REQUEST_TIMEOUT", 408, "request-timeout", "Request timeout",
    "The request's headers or body arrived too slowly (server.headersTimeout, server.requestTimeout); the connection was closed. Send it again at a steady pace."),
  payloadTooLarge: kind("SLUICE_ERR_PAYLOAD_TOO_LARGE", 413, "payload-too-large", "Request body too large",
    "The request body is larger than this endpoint accepts. Send a smaller one."),
  headersTooLarge: kind("SLUICE_ERR_HEADERS_TOO_LARGE", 431, "headers-too-large", "Request headers too large",
    "The request line and headers together exceed server.maxHeaderSize; the connection was closed. Send fewer or smaller headers (large cookies are the usual cause)."),
  notSignedIn: kind("SLUICE_ERR_NOT_SIGNED_IN", 401, "not-signed-in", "Not signed in",
    "Sign in (POST /auth/login) and send the session cookie, or, for the admin API, the admin token as a Bearer token."),
  serviceUnauthorized: kind("SLUICE_ERR_SERVICE_UNAUTHORIZED", 401, "service-unauthorized", "Missing or invalid service token",
    "Send a service token (made in the admin API) or the operator's SLUICE_ADMIN_TOKEN as Authorization: Bearer <token>."),
  badCredentials: kind("SLUICE_ERR_BAD_CREDENTIALS", 401, "bad-credentials", "Wrong email or password",
    "The email and password do not match an active account. Check them and try again."),
  accountDisabled: kind("SLUICE_ERR_ACCOUNT_DISABLED", 403, "account-disabled", "Account disabled",
    "The email and password are right, but an admin has disabled the account. Ask an admin to enable it."),
  keyOutOfScope: kind("SLUICE_ERR_KEY_OUT_OF_SCOPE", 403, "key-out-of-scope", "Service outside the key's scopes",
    "The API key is valid, but it may call only the services it was made for; the detail lists them. Use a key made for this service, or one for all services."),
  forbidden: kind("SLUICE_ERR_FORBIDDEN", 403, "forbidden", "Forbidden",
    "You are signed in, but this needs another role."),
  outOfScope: kind("SLUICE_ERR_OUT_OF_SCOPE", 403, "out-of-scope", "Outside the token's scope",
    "The service token may use only the namespaces and named policies its scope lists; the detail names the field outside it. Use the token made for that namespace or policy, or ask an admin for one."),
  crossSite: kind("SLUICE_ERR_CROSS_SITE", 403, "cross-site", "Cross-site request refused",
    "A change made with your session cookie must come from Sluice's own pages."),
  conflict: kind("SLUICE_ERR_CONFLICT", 409, "conflict", "Conflict",
    "The request conflicts with what exists (an email already registered, a plan still in use); the detail says what."),
  serviceNotFound: kind("SLUICE_ERR_SERVICE_NOT_FOUND", 404, "service-not-found", "No such service",
    "The first path segment after /api/ names a service; the gateway's /openapi.json lists them."),
  routeNotFound: kind("SLUICE_ERR_ROUTE_NOT_FOUND", 404, "route-not-found", "No such route",
    "The service exists but exposes no route for this path; see /docs."),
  notFound: kind("SLUICE_ERR_NOT_FOUND", 404, "not-found", "Not found",
    "The resource does not exist."),
  methodNotAllowed: kind("SLUICE_ERR_METHOD_NOT_ALLOWED", 405, "method-not-allowed", "Method not allowed",
    "The route exists but not for this method; the Allow header lists the methods it accepts."),
  misdirectedRequest: kind("SLUICE_ERR_MISDIRECTED_REQUEST", 421, "misdirected-request", "Host not served",
    "This server answers only for the host names in its server.publicHosts setting (on a loopback address, by default: localhost, *.localhost, 127.0.0.1 and [::1]). Use one of them in the URL."),
  rateLimited: kind("SLUICE_ERR_RATE_LIMITED", 429, "rate-limited", "Too many requests",
    "A rate limit is exhausted. Wait the number of seconds in Retry-After; the RateLimit header says which limit."),
  tooManyInvalidKeys: kind("SLUICE_ERR_TOO_MANY_INVALID_KEYS", 429, "too-many-invalid-keys", "Too many invalid API keys",
    "Your address sent more invalid API keys than server.invalidKeys allows; until Retry-After, keys from it are not checked. Fix the key, then wait the number of seconds in Retry-After."),
  internal: kind("SLUICE_ERR_INTERNAL", 500, "internal", "Internal error",
    "Sluice failed to handle the request. It has been logged with the request id; retry later."),
  upstreamUnavailable: kind("SLUICE_ERR_UPSTREAM_UNAVAILABLE", 502, "upstream-unavailable", "Upstream unavailable",
    "The service behind the gateway could not be reached or broke the connection. Retry later."),
  limiterUnavailable: kind("SLUICE_ERR_LIMITER_UNAVAILABLE", 503, "limiter-unavailable", "Rate limiter unavailable",
    "A limit that must be enforced could not be checked because its store did not answer. Retry after Retry-After."),
  overloaded: kind("SLUICE_ERR_OVERLOADED", 503, "overloaded", "Overloaded",
    "Sluice is taking more requests than it can answer in time, and refused this one before counting it against any limit. Retry after Retry-After."),
  busy: kind("SLUICE_ERR_BUSY", 503, "busy", "Busy",
    "Sluice is doing too much of this at once (password hashing). Retry after Retry-After."),
  upstreamTimeout: kind("SLUICE_ERR_UPSTREAM_TIMEOUT", 504, "upstream-timeout", "Upstream timed out",
    "The service behind the gateway did not answer in time. Retry later."),
} as const satisfies Record<string, ProblemKind>;

export type ProblemName = keyof typeof problems;

export const problemsBySlug: ReadonlyMap<string, ProblemKind> = new Map(Object.values(problems).map((p) => [p.slug, p]));
