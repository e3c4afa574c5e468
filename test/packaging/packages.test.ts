// What users install, checked as they get it: the tarballs npm packs, installed into fresh
// applications from the npm registry (or its cache), type-checked and run there.
// - `sluice` (the server) ships dist/, the files it reads at run time, the schema, the docs and
//   the licence, and nothing of the repository's own (tests, bench, sources, scripts);
// - `@sluice/client` (packages/client) ships the client, the middlewares and what they import,
//   and installs with undici alone: no Fastify, database, gRPC or Redis client;
// - the entry points of both load no server dependency;
// - small applications type-check against the installed package with skipLibCheck off: ESM with
//   `node16` and `nodenext`, a Fastify 4 application, and CommonJS (ESM only: `import()` under
//   node16, `require` of ESM under nodenext); each then runs.
// npm run test:e2e runs this after its build (dist/ is what `sluice` packs); the figures (files
// packed, bytes installed) are printed as diagnostics.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CLIENT_PACKAGE = join(REPO, "packages/client");
const TSC = join(REPO, "node_modules/typescript/bin/tsc");
/** A Fastify 4 application is the one the issue found failing (TS2769); pinned, for a test that means the same tomorrow. */
const FASTIFY_4 = "fastify@4.29.1";
/** Installed bytes a client-only application may take (undici is about 2 MB): the server's dependencies took 124 MB. */
const CLIENT_INSTALL_BOUND = 10 * 1024 * 1024;
/** What the server reads at run time besides dist/: the default config and the gRPC service's .proto files. */
const READ_AT_RUN_TIME = ["examples/sluice.yaml", "proto/"];
/** Folders of src/ the light package may hold: the client, the middlewares, and the pure modules they import. */
const CLIENT_FOLDERS = ["client", "middleware", "limiter", "config", "problems"];
/** Packages of the server that neither entry point may load. */
const SERVER_PACKAGES = ["fastify", "@electric-sql/pglite", "@grpc/grpc-js", "pg", "ioredis", "pino", "zod", "prom-client", "yaml"];

const exec = promisify(execFile);
async function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } });
  return stdout;
}
const npm = (args: readonly string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], cwd);

interface PackResult { readonly filename: string; readonly entryCount: number; readonly files: readonly { readonly path: string }[] }
async function pack(dir: string, destination: string, ignoreScripts: boolean): Promise<PackResult> {
  const [result] = JSON.parse(await npm(["pack", "--json", "--pack-destination", destination, ...(ignoreScripts ? ["--ignore-scripts"] : [])], dir)) as PackResult[];
  return result!;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)])));
  return nested.flat();
}
const bytesUnder = async (dir: string) => (await Promise.all((await walk(dir)).map(async (f) => (await stat(f)).size))).reduce((a, b) => a + b, 0);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The packages installed in `dir`'s node_modules, by name. */
async function installedPackages(dir: string): Promise<string[]> {
  const files = await walk(join(dir, "node_modules"));
  return [...new Set(files.filter((f) => f.endsWith(`${sep}package.json`)).map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(f.split(sep).join("/"))?.[1]).filter((n) => n !== undefined))].sort();
}

/** The packages from node_modules that importing `entries` in a fresh Node process resolves. */
async function packagesLoadedBy(entries: readonly string[], cwd: string, log: string): Promise<string[]> {
  // A resolve hook (module.register, run off the main thread) writes down every module resolved.
  const hooks = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) { const result = await next(specifier, context); appendFileSync(${JSON.stringify(log)}, result.url + "\\n"); return result; }`;
  const script = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}));
for (const entry of ${JSON.stringify(entries)}) await import(entry);`;
  await writeFile(log, "");
  await run(process.execPath, ["--input-type=module", "-e", script], cwd);
  const urls = (await readFile(log, "utf8")).split("\n").filter((u) => u !== "");
  assert.ok(urls.length >= entries.length, "the hook saw the entry points");
  return [...new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((n) => n !== undefined))].sort();
}

describe("the packages users install", { timeout: 600_000 }, () => {
  let work: string;
  let clientTarball: string;
  const rootManifest = async () => JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { version: string; bin: Record<string, string>; exports: Record<string, string> };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "sluice-packages-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("sluice ships dist/, what it reads at run time, the schema, the docs and the licence, and nothing of the repository's own", async (t) => {
    const packed = await pack(REPO, work, true);
    const files = packed.files.map((f) => f.path);
    t.diagnostic(`sluice: ${packed.entryCount} files packed`);
    const own = files.filter((f) => /^(src|test|bench|scripts|packages|\.ci|deploy\/.*\.test)\b/.test(f) || f.endsWith(".map") || (f.endsWith(".ts") && !f.endsWith(".d.ts")));
    assert.deepEqual(own, [], "no sources, tests, bench, scripts or source maps");
    const manifest = await rootManifest();
    const needed = [
      "package.json", "README.md", "LICENSE", "schema/sluice.config.schema.json", "docs/ratelimit-service.md", "docs/config.md", "docs/deploy.md",
      ...Object.values(manifest.bin), ...Object.values(manifest.exports).flatMap((js) => [js, js.replace(/\.js$/, ".d.ts")]),
    ].map((f) => f.replace(/^\.\//, ""));
    for (const file of needed) assert.ok(files.includes(file), `${file} is packed`);
    for (const read of READ_AT_RUN_TIME) {
      const inRepo = (await walk(join(REPO, read)).catch(() => [join(REPO, read)])).map((f) => relative(REPO, f).split(sep).join("/"));
      for (const file of inRepo) assert.ok(files.includes(file), `${file} is read at run time and packed`);
    }
    for (const asset of await walk(join(REPO, "src/dashboard/assets"))) {
      const path = relative(join(REPO, "src"), asset).split(sep).join("/");
      assert.ok(files.includes(`dist/${path}`), `the dashboard's dist/${path} is packed`);
    }
  });

  it("@sluice/client ships the client, the middlewares and the pure modules they import, at sluice's version", async (t) => {
    const packed = await pack(CLIENT_PACKAGE, work, false);
    clientTarball = join(work, packed.filename);
    const files = packed.files.map((f) => f.path);
    t.diagnostic(`@sluice/client: ${packed.entryCount} files packed`);
    const stray = files.filter((f) => !["package.json", "README.md", "LICENSE"].includes(f) && !CLIENT_FOLDERS.some((folder) => f.startsWith(`dist/${folder}/`)));
    assert.deepEqual(stray, [], "nothing of the server");
    for (const entry of ["client/index", "middleware/fastify", "middleware/express"]) {
      assert.ok(files.includes(`dist/${entry}.js`) && files.includes(`dist/${entry}.d.ts`), `${entry} and its types are packed`);
    }
    const manifest = JSON.parse(await readFile(join(CLIENT_PACKAGE, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };
    assert.equal(manifest.version, (await rootManifest()).version);
    assert.deepEqual(Object.keys(manifest.dependencies), ["undici"]);
  });

  it("sluice's client and middleware entry points load no server dependency (undici alone)", async () => {
    const entries = ["client/index.js", "middleware/express.js", "middleware/fastify.js"].map((e) => join(REPO, "dist", e));
    assert.deepEqual(await packagesLoadedBy(entries, REPO, join(work, "sluice-resolved.log")), ["undici"]);
  });

  describe("an application that only wants the client", () => {
    let app: string;
    before(async () => {
      app = join(work, "app");
      await mkdir(app);
      await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
      await npm(["install", "--prefer-offline", "--ignore-scripts", clientTarball], app);
    });

    it("installs @sluice/client and undici, nothing else, and loads every entry point without the server's packages", async (t) => {
      assert.deepEqual(await installedPackages(app), ["@sluice/client", "undici"]);
      const bytes = await bytesUnder(join(app, "node_modules"));
      t.diagnostic(`client-only install: ${mib(bytes)} in node_modules`);
      assert.ok(bytes < CLIENT_INSTALL_BOUND, `${mib(bytes)} installed`);
      const loaded = await packagesLoadedBy(["@sluice/client", "@sluice/client/express", "@sluice/client/fastify"], app, join(work, "client-resolved.log"));
      assert.deepEqual(loaded.filter((p) => SERVER_PACKAGES.includes(p)), []);
      assert.deepEqual(loaded, ["@sluice/client", "undici"]);
    });

    it("type-checks and runs ESM (node16, nodenext), a Fastify 4 application, and CommonJS (node16 by import(), nodenext by require)", async () => {
      await npm(["install", "--prefer-offline", "--ignore-scripts", FASTIFY_4, `@types/node@${await installedVersion("@types/node")}`], app);
      for (const consumer of CONSUMERS) {
        const dir = join(app, consumer.name);
        await mkdir(dir);
        if (consumer.commonjs) await writeFile(join(dir, "package.json"), JSON.stringify({ type: "commonjs" }));
        await writeFile(join(dir, "index.ts"), consumer.source);
      }
      // One compilation per module setting; each file's own package.json makes it ESM or CommonJS.
      for (const module of ["node16", "nodenext"] as const) {
        const project = join(app, `tsconfig.${module}.json`);
        await writeFile(project, JSON.stringify({
          compilerOptions: { module, moduleResolution: module, target: "ES2022", strict: true, skipLibCheck: false, types: ["node"] },
          files: CONSUMERS.filter((c) => c.module === module).map((c) => `${c.name}/index.ts`),
        }));
        await run(process.execPath, [TSC, "-p", project], app).catch((error: Error & { stdout?: string }) => assert.fail(`the ${module} applications do not type-check:\n${error.stdout ?? error.message}`));
      }
      for (const consumer of CONSUMERS) {
        const printed = await run(process.execPath, [join(app, consumer.name, "index.js")], app);
        assert.equal(printed.trim(), consumer.prints, `${consumer.name} runs`);
      }
    });
  });
});

async function installedVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(join(REPO, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

interface Consumer {
  readonly name: string;
  readonly module: "node16" | "nodenext";
  readonly commonjs: boolean;
  readonly source: string;
  /** What it prints when it runs: no Sluice listens, so the client's failure policy answers. */
  readonly prints: string;
}

/** A client whose service never answers (nothing listens on port 9), failing open. */
const CLIENT = `new RateLimitClient({ url: "http://127.0.0.1:9", token: "t", timeoutMs: 200 })`;

const CONSUMERS: readonly Consumer[] = [
  {
    name: "esm-node16",
    module: "node16",
    commonjs: false,
    source: `import { createServer } from "node:http";
import { RateLimitClient, type LimitResult, type RateLimitResult } from "@sluice/client";
import { rateLimit } from "@sluice/client/express";
const client = ${CLIENT};
const result: LimitResult = await client.limit({ identifier: "a", limit: 3, duration: "1m" });
const named: RateLimitResult = await client.limit({ policy: "emails", identifier: "a" });
// A Connect-style server: the Express middleware is typed on node:http.
const limited = rateLimit({ client, identifier: (req) => req.socket.remoteAddress, limit: 5, duration: "1m" });
const server = createServer((req, res) => limited(req, res, () => res.end("ok")));
await client.close();
server.close();
console.log(result.allowed, result.failure?.reason, named.allowed);
`,
    prints: "true unreachable true",
  },
  {
    name: "fastify4-nodenext",
    module: "nodenext",
    commonjs: false,
    source: `import Fastify from "fastify";
import { RateLimitClient } from "@sluice/client";
import { rateLimitHook, sluiceRateLimit } from "@sluice/client/fastify";
const client = ${CLIENT};
const app = Fastify();
await app.register(sluiceRateLimit, { client, identifier: (request) => request.ip, limit: 100, duration: "1m", namespace: "api" });
app.get("/search", { onRequest: rateLimitHook({ client, identifier: (request) => request.headers["x-user-id"] as string | undefined, policy: "search" }) }, async () => ({ found: [] }));
const response = await app.inject({ method: "GET", url: "/search", headers: { "x-user-id": "ada" } });
await app.close();
await client.close();
console.log(app.version.split(".")[0], response.statusCode, response.body);
`,
    prints: '4 200 {"found":[]}',
  },
  {
    name: "cjs-node16",
    module: "node16",
    commonjs: true,
    source: `// CommonJS under node16: the ESM-only package comes in by import().
async function main(): Promise<void> {
  const { RateLimitClient } = await import("@sluice/client");
  const client = ${CLIENT};
  const result = await client.limit({ identifier: "a", limit: 3, duration: "1m" });
  await client.close();
  console.log(result.allowed, result.remaining);
}
void main();
`,
    prints: "true 3",
  },
  {
    name: "cjs-nodenext",
    module: "nodenext",
    commonjs: true,
    source: `// CommonJS under nodenext: require() of an ES module (Node.js 20.19+, 22.12+).
import { RateLimitClient } from "@sluice/client";
const client = ${CLIENT};
client.limit({ identifier: "a", limit: 3, duration: "1m" }).then(async (result) => {
  await client.close();
  console.log(result.allowed, result.remaining);
});
`,
    prints: "true 3",
  },
];
