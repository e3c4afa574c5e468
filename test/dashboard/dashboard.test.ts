// The dashboard's server side: the page and its assets under a strict CSP, nothing inline that
// the CSP would block, a label for every field, the script's ES modules all served and importing
// one another one way, nothing outside the assets folder, the services' names for signed-in
// users only, and /docs for `/` when there are no accounts.
// The page itself is driven in a real browser by test/e2e/dashboard.test.ts.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { DASHBOARD_CSP, registerDashboard } from "../../src/dashboard/dashboard.js";
import { problems } from "../../src/problems/catalogue.js";
import { useProblemResponses } from "../../src/problems/fastifyProblems.js";

/** The dashboard alone; a request is signed in when it carries `cookie: signed-in`. */
async function dashboardApp(withAccounts: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  useProblemResponses(app);
  await registerDashboard(app, { serviceNames: () => ["users", "random"], withAccounts, signedIn: (request) => Promise.resolve(request.headers.cookie === "signed-in") });
  return app;
}
const SIGNED_IN = { cookie: "signed-in" };

const ASSETS = new URL("../../src/dashboard/assets/", import.meta.url);

/** The script's modules, by path under the assets folder ("app.js", "pages/keys.js"). */
async function scriptModules(): Promise<string[]> {
  const files = await readdir(ASSETS, { recursive: true });
  return files.map((file) => file.split("\\").join("/")).filter((file) => file.endsWith(".js")).sort();
}

/** A module's imports as the browser resolves them: URL path → the names it takes from there. */
function importsOf(module: string, source: string): Map<string, string[]> {
  const imports = new Map<string, string[]>();
  const statements = [...source.matchAll(/^import \{([^}]*)\} from "([^"]+)";$/gm)];
  assert.equal(statements.length, source.match(/^import\b/gm)?.length ?? 0, `${module}: every import is \`import { … } from "…";\` on one line`);
  for (const [, names, specifier] of statements) {
    assert.match(specifier!, /^\.\.?\//, `${module} imports ${specifier} by relative path`);
    const path = new URL(specifier!, `http://dashboard.test/dashboard/${module}`).pathname;
    imports.set(path, names!.split(",").map((name) => name.trim()));
  }
  return imports;
}

describe("the dashboard's responses", () => {
  it("serves the page and its assets with the CSP, nosniff and their media types", async () => {
    const app = await dashboardApp(true);
    const expected = {
      "/": "text/html; charset=utf-8",
      "/dashboard/app.js": "text/javascript; charset=utf-8",
      "/dashboard/app.css": "text/css; charset=utf-8",
      "/dashboard/icon.svg": "image/svg+xml",
      "/dashboard/services.json": "application/json; charset=utf-8",
    };
    for (const [url, type] of Object.entries(expected)) {
      const response = await app.inject({ url, headers: SIGNED_IN });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers["content-type"], type, url);
      assert.equal(response.headers["content-security-policy"], DASHBOARD_CSP, url);
      assert.equal(response.headers["x-content-type-options"], "nosniff", url);
    }
    assert.deepEqual((await app.inject({ url: "/dashboard/services.json", headers: SIGNED_IN })).json(), { services: ["random", "users"] });
  });

  it("serves every module of the script as JavaScript, under the same headers as the entry app.js", async () => {
    const app = await dashboardApp(true);
    const entry = await app.inject({ url: "/dashboard/app.js" });
    const modules = await scriptModules();
    assert.ok(modules.length > 10 && modules.some((m) => m.startsWith("pages/")) && modules.some((m) => m.startsWith("shared/")), "the script is split into modules");
    for (const module of modules) {
      const response = await app.inject({ url: `/dashboard/${module}` });
      assert.equal(response.statusCode, 200, module);
      assert.equal(response.body, await readFile(new URL(module, ASSETS), "utf8"), module);
      for (const header of ["content-type", "content-security-policy", "x-content-type-options", "cache-control"]) {
        assert.equal(response.headers[header], entry.headers[header], `${module}: ${header}`);
      }
    }
  });

  it("loads the modules from app.js with relative imports of what each exports, one way: shared/ never imports a page, and no cycle", async () => {
    const app = await dashboardApp(true);
    const graph = new Map<string, string[]>();
    for (const module of await scriptModules()) {
      const source = await readFile(new URL(module, ASSETS), "utf8");
      assert.match(source, /^\/\*\n \* \S/, `${module} opens with a comment saying its job`);
      const imports = importsOf(module, source);
      for (const [path, names] of imports) {
        const imported = await app.inject({ url: path });
        assert.equal(imported.statusCode, 200, `${module} imports ${path}, which is served`);
        const exported = new Set([...imported.body.matchAll(/^export (?:async )?(?:function|const|let) ([\w$]+)/gm)].map((m) => m[1]));
        for (const name of names) assert.ok(exported.has(name), `${module} imports ${name}, which ${path} exports`);
      }
      graph.set(`/dashboard/${module}`, [...imports.keys()]);
    }

    const reached = new Set<string>();
    const visit = (path: string, trail: string[]): void => {
      assert.ok(!trail.includes(path), `an import cycle: ${[...trail, path].join(" → ")}`);
      if (reached.has(path)) return;
      reached.add(path);
      if (path.startsWith("/dashboard/shared/")) for (const next of graph.get(path)!) assert.match(next, /^\/dashboard\/shared\//, `${path} imports ${next}`);
      for (const next of graph.get(path)!) visit(next, [...trail, path]);
    };
    visit("/dashboard/app.js", []);
    assert.deepEqual([...reached].sort(), [...graph.keys()].sort(), "app.js reaches every module");
  });

  it("names the services to signed-in users only: anyone else gets 401", async () => {
    const app = await dashboardApp(true);
    const stranger = await app.inject({ url: "/dashboard/services.json" });
    assert.equal(stranger.statusCode, 401);
    assert.equal(stranger.json<{ code: string }>().code, problems.notSignedIn.code);
    assert.doesNotMatch(stranger.body, /users|random/);
  });

  it("forbids inline scripts and styles and framing", () => {
    const directives = new Map(DASHBOARD_CSP.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    assert.equal(directives.get("default-src"), "'self'");
    assert.equal(directives.get("script-src"), "'self'");
    assert.equal(directives.get("style-src"), "'self'");
    assert.equal(directives.get("frame-ancestors"), "'none'");
  });

  it("has no inline script, style or event handler for the CSP to block", async () => {
    const html = await readFile(new URL("../../src/dashboard/assets/index.html", import.meta.url), "utf8");
    for (const script of html.matchAll(/<script\b[^>]*>/g)) assert.match(script[0], /\ssrc="\/dashboard\//);
    assert.doesNotMatch(html, /<style\b/);
    assert.doesNotMatch(html, /\sstyle=/);
    assert.doesNotMatch(html, /\son[a-z]+=/);
    for (const module of await scriptModules()) {
      const script = await readFile(new URL(module, ASSETS), "utf8");
      assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, module);
    }
  });

  it("labels every form field the page itself holds", async () => {
    const html = await readFile(new URL("../../src/dashboard/assets/index.html", import.meta.url), "utf8");
    const labelled = new Set([...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
    const fields = [...html.matchAll(/<(input|select|textarea)\b[^>]*>/g)].map((m) => m[0]).filter((tag) => !/\shidden\b/.test(tag));
    assert.ok(fields.length >= 14, "the page's forms are all here");
    for (const field of fields) {
      const id = /\sid="([^"]+)"/.exec(field)?.[1];
      assert.ok(id !== undefined && labelled.has(id), `a label for ${field}`);
    }
  });

  it("answers other paths under /dashboard/ with the 404 problem, and nothing outside the assets folder", async () => {
    const app = await dashboardApp(true);
    const outside = [
      "/dashboard/..%2Fdashboard.ts", "/dashboard/pages/..%2F..%2Fdashboard.ts", "/dashboard/%2e%2e/dashboard.ts",
      "/dashboard/pages/../../dashboard.ts", "/dashboard/..%2F..%2F..%2Fpackage.json", "/dashboard/%2Fetc%2Fpasswd",
    ];
    for (const url of ["/dashboard/index.html", "/dashboard/nope.js", "/dashboard/pages/nope.js", "/dashboard/pages", "/dashboard/", ...outside]) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.headers["content-type"], "application/problem+json", url);
    }
  });

  it("sends / to the API docs when there are no accounts to sign in to", async () => {
    const app = await dashboardApp(false);
    const response = await app.inject({ url: "/" });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, "/docs");
    assert.equal((await app.inject({ url: "/dashboard/app.js" })).statusCode, 404);
  });
});
