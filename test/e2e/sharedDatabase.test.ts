// Two gateway processes on one PostgreSQL, as an operator runs them: a key made through one
// instance's admin API passes both; revoked on one, it is refused by the other within a second;
// a user moved to another plan on one meets that plan's limits on the other's next request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../support/poll.js";
import { createScratchPostgres, type ScratchPostgres } from "../support/postgres.js";
import { startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";
let database: ScratchPostgres;
let a: SluiceProcess;
let b: SluiceProcess;

before(async () => {
  database = await createScratchPostgres();
  const env = { DATABASE_URL: database.url, SLUICE_ADMIN_TOKEN: ADMIN_TOKEN };
  // One after the other: the second finds the schema migrated by the first.
  a = await startCli([], env);
  b = await startCli([], env);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await database?.drop();
});

async function admin(path: string, body: unknown, method = "POST"): Promise<Record<string, unknown>> {
  const response = await fetch(a.url + path, {
    method,
    headers: { "authorization": `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function callWith(instance: SluiceProcess, key: string): Promise<Response> {
  const response = await fetch(`${instance.url}/api/users/users/104`, { headers: { "x-api-key": key } });
  await response.body?.cancel();
  return response;
}

/** Calls until `done` holds or a second has passed; returns the last response and how long it took. */
async function withinOneSecond(instance: SluiceProcess, key: string, done: (r: Response) => boolean): Promise<{ response: Response; ms: number }> {
  const started = Date.now();
  const response = await pollUntil(() => callWith(instance, key), done);
  return { response, ms: Date.now() - started };
}

describe("two instances sharing PostgreSQL", () => {
  let userId: string;
  let key: string;
  let keyId: string;

  it("both pass a key made through one instance's admin API", async () => {
    const user = await admin("/admin/api/users", { email: "shared@example.com", password: "correct horse battery" });
    userId = String((user["user"] as Record<string, unknown> | undefined)?.["id"] ?? user["id"]);
    const created = await admin("/admin/api/keys", { userId, name: "shared" });
    key = String(created["key"]);
    keyId = String((created["record"] as Record<string, unknown>)["id"]);
    assert.equal((await callWith(a, key)).status, 200);
    assert.equal((await callWith(b, key)).status, 200);
  });

  it("applies a plan change made on one instance to the other's next request", async () => {
    await admin(`/admin/api/users/${userId}`, { plan: "premium" }, "PATCH");
    const { response } = await withinOneSecond(b, key, (r) => r.headers.get("ratelimit-policy")?.includes("premium-rate") === true);
    assert.match(response.headers.get("ratelimit-policy") ?? "", /"premium-rate"/);
  });

  it("refuses on the other instance, within a second, a key revoked on one", async () => {
    await admin(`/admin/api/keys/${keyId}/revoke`, {});
    const { response, ms } = await withinOneSecond(b, key, (r) => r.status === 401);
    assert.equal(response.status, 401, `still accepted after ${ms} ms`);
    assert.equal((await callWith(a, key)).status, 401);
  });
});
