#!/usr/bin/env node
// `npm run test:fast`: the unit tests that need neither Redis nor PostgreSQL, for checking a change
// to a pure module in seconds. A test file is left out when it, or a test helper it imports (the
// import graph inside test/ is followed), reaches the Redis or PostgreSQL harness, the embedded
// database, or the built CLI. They wait on sockets more than on the CPU, so four run at once.
// Extra arguments go to `node --test`, e.g. `npm run test:fast -- --test-name-pattern=gcra`.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/**
 * What a fast test may not reach: Redis, PostgreSQL (a server, or the embedded engine, which
 * takes seconds to start), or processes of the CLI.
 */
const SLOW = [
  "test/support/redis.ts", "test/support/redisServer.ts", "test/support/redisCluster.ts", "test/support/postgres.ts",
  "test/support/databases.ts", "test/support/accountsSluice.ts", "test/support/sluiceProcess.ts",
  "src/db/embeddedDatabase.ts", "src/db/openDatabase.ts",
];
const SLOW_FOLDERS = ["test/e2e/", "test/system/", "test/packaging/"];

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)[^;]*?from\s+"(\.[^"]+)"/g;
const importsOf = new Map();
function localImports(file) {
  if (!importsOf.has(file)) {
    const text = readFileSync(join(ROOT, file), "utf8");
    importsOf.set(file, [...text.matchAll(IMPORT)].map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1])).replace(/\.js$/, ".ts")));
  }
  return importsOf.get(file);
}

function reachesSlow(file, seen = new Set()) {
  if (SLOW.includes(file)) return true;
  // Test helpers are followed; the sources are not (a test reaches a database through a helper).
  if (seen.has(file) || !file.startsWith("test/")) return false;
  seen.add(file);
  return localImports(file).some((imported) => reachesSlow(imported, seen));
}

const files = walk(join(ROOT, "test"))
  .map((path) => relative(ROOT, path))
  .filter((path) => path.endsWith(".test.ts") && !SLOW_FOLDERS.some((folder) => path.startsWith(folder)))
  .filter((path) => !reachesSlow(path))
  .sort();

const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=4", "--test-reporter=spec", ...process.argv.slice(2), ...files], { cwd: ROOT, stdio: "inherit" });
process.exit(result.status ?? 1);
