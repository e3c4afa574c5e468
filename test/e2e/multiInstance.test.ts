// Three gateway processes on one Redis and one PostgreSQL, as an operator runs them behind a load
// balancer: a limit is one exact count across all three; a key made through one instance's admin
// API passes all; a user moved to another plan on one meets that plan's limits on the others'
// next requests; a key revoked on one is refused by the others within a second.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../support/poll.js";
import { createScratchPostgres, type ScratchPostgres } from "../support/postgres.js";
import { startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";
const LIMIT = 9;
let dir: string;
let database: ScratchPostgres;
let instances: SluiceProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-multi-"));
  const config = join(dir, "sluice.yaml");
  // A key prefix of its own on the shared Redis, so no other test's counters are seen; a deadline
  // a busy test machine meets, and a limit that fails closed, so a missed deadline cannot pass for exactness.
  await writeFile(config, `
limiter: { keyPrefix: "multi-${randomUUID()}:", timeout: 2s }
limits:
  per-client: { algorithm: sliding-window-log, limit: ${LIMIT}, window: 1m, onStoreFailure: closed }
  roomy: { algorithm: gcra, limit: 1000, window: 1m }
defaults: { limits: [roomy] }
services:
  users: { upstream: "demo://users" }
  counted: { upstream: "demo://users", limits: [per-client] }
consumers:
  demo: { keys: [secret-key] }
`);
  database = await createScratchPostgres();
  const env = { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:6379", SLUICE_ADMIN_TOKEN: ADMIN_TOKEN };
  // One after the other: the later ones find the schema migrated by the first.
  for (let i = 0; i < 3; i++) instances.push(await startCli(["--config", config, "--workers", "1"], env));
});
after(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  instances = [];
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function admin(path: string, body: unknown, method = "POST"): Promise<Record<string, unknown>> {
  const response = await fetch(instances[0]!.url + path, {
    method,
    headers: { "authorization": `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function callWith(instance: SluiceProcess, key: string, service = "users"): Promise<Response> {
  const response = await fetch(`${instance.url}/api/${service}/users/104`, { headers: { "x-api-key": key } });
  await response.body?.cancel();
  return response;
}

/** Calls until `done` holds or a second has passed; returns the last response. */
const withinOneSecond = (instance: SluiceProcess, key: string, done: (r: Response) => boolean) => pollUntil(() => callWith(instance, key), done);

describe("three instances sharing Redis and PostgreSQL", () => {
  let userId: string;
  let key: string;
  let keyId: string;

  it("hold a limit as one exact count: requests spread over all three are admitted exactly up to it", async () => {
    // Five rounds, each sending to all three instances at once.
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(instances.map((instance) => callWith(instance, "secret-key", "counted")));
      statuses.push(...answers.map((r) => r.status));
    }
    assert.equal(statuses.filter((s) => s === 200).length, LIMIT);
    assert.equal(statuses.filter((s) => s === 429).length, statuses.length - LIMIT);
  });

  it("all pass a key made through one instance's admin API", async () => {
    const user = await admin("/admin/api/users", { email: "shared@example.com", password: "correct horse battery" });
    userId = String((user["user"] as Record<string, unknown> | undefined)?.["id"] ?? user["id"]);
    const created = await admin("/admin/api/keys", { userId, name: "shared" });
    key = String(created["key"]);
    keyId = String((created["record"] as Record<string, unknown>)["id"]);
    for (const instance of instances) assert.equal((await callWith(instance, key)).status, 200);
  });

  it("apply a plan change made on one instance to the others' next requests", async () => {
    await admin(`/admin/api/users/${userId}`, { plan: "premium" }, "PATCH");
    for (const instance of instances.slice(1)) {
      const response = await withinOneSecond(instance, key, (r) => r.headers.get("ratelimit-policy")?.includes("premium-rate") === true);
      assert.match(response.headers.get("ratelimit-policy") ?? "", /"premium-rate"/);
    }
  });

  it("refuse on the others, within a second, a key revoked on one", async () => {
    await admin(`/admin/api/keys/${keyId}/revoke`, undefined); // a route that takes no body refuses one
    for (const instance of instances.slice(1)) assert.equal((await withinOneSecond(instance, key, (r) => r.status === 401)).status, 401);
    assert.equal((await callWith(instances[0]!, key)).status, 401);
  });
});
