// Keys and plans from the accounts database, through the gateway over real HTTP: a user's key
// passes beside the config's keys and meets its plan's limits on top of the route's; a plan
// change applies to the next request; a revoked key gets the invalid-key 401 at once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { pollUntil } from "../support/poll.js";
import type { TestSluice } from "../support/testSluice.js";

let running: AccountsSluice;
let accounts: Accounts;
let sluice: TestSluice;

before(async () => {
  running = await startAccountsSluice((upstream) => `
limits:
  per-route: { algorithm: fixed-window, limit: 100, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", limits: [per-route], openapi: false }
consumers:
  demo: { keys: [secret-key] }
`);
  ({ accounts, sluice } = running);
});
after(() => running.close());

async function call(key: string): Promise<Response> {
  const response = await sluice.call("/api/echo/x", { key });
  await response.body?.cancel();
  return response;
}

describe("a database key", () => {
  it("passes beside the config's keys, and its plan's limits apply with the route's", async () => {
    const user = await accounts.createUser({ email: "ada@example.com", password: "correct horse battery" });
    const { key } = await accounts.apiKeys.create(user.id, { name: "laptop" });
    assert.equal((await call("secret-key")).status, 200, "config keys still pass");

    const first = await call(key);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("ratelimit-policy"), '"per-route";q=100;w=60, "free-rate";q=5;w=30');
    assert.equal(first.headers.get("ratelimit"), '"free-rate";r=4;t=30');
    for (let i = 0; i < 4; i++) assert.equal((await call(key)).status, 200);
    const limited = await call(key);
    assert.equal(limited.status, 429);
    assert.match(limited.headers.get("ratelimit") ?? "", /^"free-rate";r=0/);
  });

  it("meets its new plan's limits on the next request after a plan change", async () => {
    const user = await accounts.createUser({ email: "grace@example.com", password: "correct horse battery" });
    const { key } = await accounts.apiKeys.create(user.id, { name: "ci" });
    for (let i = 0; i < 5; i++) await call(key);
    assert.equal((await call(key)).status, 429);

    await accounts.users.setPlan(user.id, "premium");
    const response = await pollUntil(() => call(key), (r) => r.status === 200);
    assert.equal(response.status, 200, "within a second, on the premium plan");
    assert.match(response.headers.get("ratelimit-policy") ?? "", /"premium-rate";q=100;w=60, "premium-daily";q=10000;w=86400/);
  });

  it("applies a plan's edited limits to the next request", async () => {
    await accounts.plans.set("tiny", { limits: { "tiny-rate": { algorithm: "fixed-window", limit: 1, window: "1h" } } });
    const user = await accounts.createUser({ email: "tiny@example.com", password: "correct horse battery", plan: "tiny" });
    const { key } = await accounts.apiKeys.create(user.id, { name: "one" });
    await pollUntil(() => call(key), (r) => r.headers.get("ratelimit-policy")?.includes("tiny-rate") === true);
    assert.equal((await call(key)).status, 429, "one an hour");

    await accounts.plans.set("tiny", { limits: { "tiny-rate": { algorithm: "fixed-window", limit: 1000, window: "1h" } } });
    assert.equal((await pollUntil(() => call(key), (r) => r.status === 200)).status, 200);
  });

  it("gets the invalid-key 401 once revoked", async () => {
    const user = await accounts.createUser({ email: "lin@example.com", password: "correct horse battery" });
    const { key, record } = await accounts.apiKeys.create(user.id, { name: "old" });
    assert.equal((await call(key)).status, 200);
    await accounts.apiKeys.revoke(record.id);
    assert.equal((await pollUntil(() => call(key), (r) => r.status === 401)).status, 401);
  });
});
