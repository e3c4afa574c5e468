/**
 * The admin API under /admin/api: users, API keys, plans and service tokens, as JSON, for an
 * admin's session or the operator's token (`Authorization: Bearer <SLUICE_ADMIN_TOKEN>`; checked
 * before any body is read). The dashboard and scripts use it; the CLI and the account routes
 * reach the same repositories through `Accounts` (accounts.ts).
 *
 * Each resource is a route table of its own in admin/ (userRoutes.ts, keyRoutes.ts,
 * planRoutes.ts, serviceTokenRoutes.ts; the views they answer with in adminViews.ts), declared
 * with defineRoute.ts, which registers them and writes ADMIN_OPENAPI_PATHS from the same
 * entries. Queries and bodies are read by their schemas (bodies up to 64 KiB, strict: an
 * unknown field is an error); a 400 `bad-request` names every bad field in `invalidParams`. The
 * accounts' own errors answer as problems/domainErrors.ts maps them (an email taken or a plan in
 * use: 409; an invalid email, password, plan or cursor: 400 naming the field).
 *
 * Output: camelCase JSON, times as ISO strings, and never a password hash or a key hash. A new
 * key's plaintext appears once, in the answer that creates it.
 *
 * @example
 * curl -H "Authorization: Bearer $SLUICE_ADMIN_TOKEN" 'http://127.0.0.1:8080/admin/api/users?role=admin&limit=20'
 * // → { "items": [{ "id": "…", "email": "ada@example.com", "role": "admin", … }], "total": 1 }
 */
import type { FastifyInstance } from "fastify";
import { SESSION_COOKIE } from "../accounts/sessions.js";
import { KEY_ROUTES } from "./admin/keyRoutes.js";
import { PLAN_ROUTES } from "./admin/planRoutes.js";
import { SERVICE_TOKEN_ROUTES } from "./admin/serviceTokenRoutes.js";
import { USER_ROUTES } from "./admin/userRoutes.js";
import type { AdminApiDeps } from "./admin/adminRoute.js";
import { registerRoutes } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import type { OpenApiSection } from "./openapi.js";

export { ADMIN_API_PREFIX, ADMIN_BODY_LIMIT, type AdminApiDeps } from "./admin/adminRoute.js";

/** Every admin API endpoint, resource by resource. */
export const ADMIN_ROUTES = [...USER_ROUTES, ...KEY_ROUTES, ...PLAN_ROUTES, ...SERVICE_TOKEN_ROUTES];

/**
 * Registers the admin API: callers are checked first (401 nobody, 403 not an admin or a
 * cross-site cookie request), then the query and body, then the handler runs.
 */
export function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  registerRoutes(app, ADMIN_ROUTES, deps);
  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** Security schemes the admin operations name; merged into the document's components. */
export const ADMIN_SECURITY_SCHEMES = {
  adminToken: { type: "http", scheme: "bearer", description: "The operator's SLUICE_ADMIN_TOKEN." },
  session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "An admin's dashboard session (POST /auth/login sets it)." },
} as const;

/** Every admin endpoint as an OpenAPI 3.1 `paths` fragment (problems refer to `#/components/schemas/Problem`). */
export const ADMIN_OPENAPI_PATHS = openApiPaths(ADMIN_ROUTES);

/** The admin API's part of /openapi.json. */
export const ADMIN_OPENAPI: OpenApiSection = {
  tags: [
    { name: "admin: users", description: "Accounts: list, create, change plan or role, disable. Admin token or an admin's session." },
    { name: "admin: keys", description: "Every user's API keys: create, revoke, rotate." },
    { name: "admin: plans", description: "Plans and their limits." },
    { name: "admin: service tokens", description: "Tokens applications send to the rate-limit service (POST /v1/ratelimit)." },
  ],
  paths: ADMIN_OPENAPI_PATHS,
  securitySchemes: ADMIN_SECURITY_SCHEMES,
};
