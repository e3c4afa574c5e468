/**
 * The web dashboard: one HTML page at `/` with a small script and stylesheet, for people to learn
 * what Sluice is (the welcome view), sign up, sign in, try the gateway as themselves (the
 * playground), manage their API keys beside their plan's limits, see their usage as charts, and
 * change or (with an admin's one-time link) reset their password; and for admins, to manage users,
 * their keys and plans, see the services' health and inspect and reset any caller's limits. The page holds no data and no
 * secrets; its script calls the JSON API beside it (authRoutes.ts, accountRoutes.ts,
 * src/control/usageRoutes.ts, adminApi.ts, src/control/adminLiveRoutes.ts) and, for the playground,
 * the gateway's /api/* with the session cookie. Admin pages are shown to anyone who opens them;
 * the API answers a non-admin 403 and the page says so. The services' names (services.json) are
 * for signed-in users only: they are not public.
 *
 * - Assets are plain files in `./assets/` (no build step: `npm run build` copies them into
 *   dist/ beside this module), read once when the plugin is registered and served from memory.
 *   The script is ES modules: `app.js` (the entry, which index.html loads) imports `shared/*.js`
 *   and `pages/*.js` by relative path, so every .js, .css and .svg file in the folder is served,
 *   under its path (/dashboard/pages/keys.js). A request is looked up among the files read at
 *   start, never joined onto a path, so no URL reaches outside the folder.
 * - Every dashboard response carries DASHBOARD_CSP: scripts and styles only from this origin,
 *   none inline, no framing; and `X-Content-Type-Options: nosniff`.
 * - CSRF: the page makes every change with a same-origin `fetch` whose body is JSON; the server
 *   checks `Origin` on every state-changing request (sessionAuth.ts) and a cross-site form cannot
 *   send JSON, so the page needs no CSRF token.
 * - Without accounts (no database: some in-process tests) there is nobody to sign in, so `/`
 *   sends visitors to the API docs instead.
 *
 * @example
 * await registerDashboard(app, { serviceNames: () => table.keys(), withAccounts: true, signedIn: async (request) => … });
 * // GET / → the page; GET /dashboard/app.js, /dashboard/pages/keys.js, /dashboard/app.css; GET /dashboard/services.json
 */
import { readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";

export interface DashboardOptions {
  /**
   * The gateway's services, offered as scopes for new keys and named in the playground; asked at
   * each request for services.json, so it lists the services of the configuration serving now.
   */
  readonly serviceNames: () => Iterable<string>;
  /** Whether users and sessions exist (a database is open); without them `/` redirects to /docs. */
  readonly withAccounts: boolean;
  /** Whether the request carries a live session: services.json is for signed-in users only. */
  readonly signedIn: (request: FastifyRequest) => Promise<boolean>;
}

/** The Content-Security-Policy of every dashboard response. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Where the dashboard's files are served from. */
export const DASHBOARD_ASSET_PREFIX = "/dashboard/";

const ASSETS = new URL("./assets/", import.meta.url);

/** Extension → media type: the only kinds of file served (index.html is the page at `/`). */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

export function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  if (!options.withAccounts) {
    app.get("/", (_request, reply) => reply.redirect("/docs"));
    return Promise.resolve();
  }

  const page = readFileSync(new URL("index.html", ASSETS));
  const assets = readAssets();

  app.get("/", function dashboardPage(_request, reply) {
    return secured(reply).type("text/html; charset=utf-8").send(page);
  });

  // The services' names are not public (docs/security.md): the page asks once someone is signed in.
  app.get(`${DASHBOARD_ASSET_PREFIX}services.json`, async function dashboardServices(request, reply) {
    if (!(await options.signedIn(request))) return replyProblem(secured(reply), problems.notSignedIn, "Sign in to see the gateway's services.");
    return secured(reply).header("cache-control", "no-store").type("application/json; charset=utf-8").send({ services: [...options.serviceNames()].sort() });
  });

  app.get<{ Params: { "*": string } }>(`${DASHBOARD_ASSET_PREFIX}*`, function dashboardAsset(request, reply) {
    const asset = assets.get(request.params["*"]);
    // Fall through to the control plane's 404 problem, as any unknown path does.
    if (asset === undefined) return reply.callNotFound();
    return secured(reply).type(asset.type).send(asset.body);
  });

  // Nothing to wait for; a promise, as the control plane registers every part alike.
  return Promise.resolve();
}

/** Every file under ./assets/ of a served kind, by its path there with `/` ("pages/keys.js"). */
function readAssets(): ReadonlyMap<string, Asset> {
  const root = fileURLToPath(ASSETS);
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const type = MEDIA_TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const file = join(entry.parentPath, entry.name);
    assets.set(relative(root, file).split(sep).join("/"), { type, body: readFileSync(file) });
  }
  return assets;
}

/** The headers every dashboard response carries. No-cache: a new release is picked up at once. */
function secured(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "content-security-policy": DASHBOARD_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-cache",
  });
}
