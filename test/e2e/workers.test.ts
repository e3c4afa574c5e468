// `sluice start --workers N`: several processes on one port, one exact count between them in
// Redis; a worker that dies is replaced; SIGHUP reloads every worker; SIGTERM to the primary
// drains them all and exits 0. And the refusals: more than one worker needs limits in Redis and
// accounts in PostgreSQL, and says so.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../support/poll.js";
import { createScratchPostgres, type ScratchPostgres } from "../support/postgres.js";
import { runCli, startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const LIMIT = 6;
let dir: string;
let config: string;
const configText = (limit: number) => `
limiter: { keyPrefix: "workers-${randomUUID()}:", timeout: 2s }
limits:
  per-client: { algorithm: fixed-window, limit: ${limit}, window: 1m, onStoreFailure: closed }
defaults: { limits: [per-client] }
services:
  users: { upstream: "demo://users" }
consumers:
  demo: { keys: [secret-key] }
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-workers-"));
  config = join(dir, "sluice.yaml");
  await writeFile(config, configText(LIMIT));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The worker processes of a primary. */
async function workerPids(primary: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)("pgrep", ["-P", String(primary)]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number).sort();
}

async function call(sluice: SluiceProcess): Promise<Response> {
  const response = await fetch(`${sluice.url}/api/users/users/104`, { headers: { "x-api-key": "secret-key", "connection": "close" } });
  await response.body?.cancel();
  return response;
}

describe("refusing more than one worker without shared state", () => {
  it("needs limits in Redis: in memory each worker would admit the whole limit", async () => {
    const { code, stderr } = await runCli(["start", "--config", config, "--workers", "2"]);
    assert.equal(code, 2);
    assert.match(stderr, /--workers 2 needs limits in Redis \(REDIS_URL\)/);
  });

  it("needs DATABASE_URL: the embedded database opens in one process only", async () => {
    const { code, stderr } = await runCli(["start", "--config", config, "--workers", "2"], { REDIS_URL: "redis://127.0.0.1:6379" });
    assert.equal(code, 2);
    assert.match(stderr, /--workers 2 needs DATABASE_URL \(PostgreSQL\)/);
  });
});

describe("two workers on Redis and PostgreSQL", () => {
  let database: ScratchPostgres;
  let sluice: SluiceProcess;
  let primary: number;
  before(async () => {
    database = await createScratchPostgres();
    sluice = await startCli(["--config", config, "--workers", "2"], { REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: database.url, LOG_LEVEL: "info" }, 60_000);
    primary = sluice.child.pid!;
  });
  after(async () => {
    await sluice?.stop();
    await database?.drop();
  });

  it("runs two workers that count one limit together, exactly", async () => {
    assert.equal((await workerPids(primary)).length, 2);
    // A new connection per request: the primary hands connections to the workers in turn.
    const statuses = [];
    for (let i = 0; i < LIMIT + 4; i++) statuses.push((await call(sluice)).status);
    assert.deepEqual(statuses, [...Array<number>(LIMIT).fill(200), ...Array<number>(4).fill(429)]);
  });

  it("replaces a worker that dies", async () => {
    const [victim, survivor] = await workerPids(primary);
    process.kill(victim!, "SIGKILL");
    const pids = await pollUntil(async () => (await delay(100), workerPids(primary)), (p) => p.length === 2 && !p.includes(victim!), 30_000);
    assert.ok(pids.includes(survivor!) && !pids.includes(victim!), `workers now ${pids.join(", ")}`);
  });

  it("reloads every worker on SIGHUP", async () => {
    // Wait for the replacement to listen, then change the limit and signal only the primary.
    await pollUntil(async () => (await delay(100), sluice.output().stdout), (out) => out.split("sluice is listening").length - 1 >= 3, 30_000);
    await writeFile(config, configText(LIMIT + 100));
    sluice.child.kill("SIGHUP");
    // Every worker answers with the new policy: ten new connections reach both.
    const policies = await pollUntil(async () => {
      const headers = [];
      for (let i = 0; i < 10; i++) headers.push((await call(sluice)).headers.get("ratelimit-policy"));
      return headers;
    }, (h) => h.every((p) => p?.includes(`q=${LIMIT + 100}`) === true), 10_000);
    assert.deepEqual(new Set(policies), new Set([`"per-client";q=${LIMIT + 100};w=60`]));
  });

  it("drains every worker on SIGTERM to the primary and exits 0", async () => {
    const workers = await workerPids(primary);
    const finished = await sluice.stop();
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stderr.split("asked by the primary: shutting down").length - 1, workers.length);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
