// Who may call the rate-limit service, end to end: an operator makes service tokens in the admin
// API; a token with the `decide` right gets decisions and reads but not resets (403), one with
// `reset` may reset; the admin token may do both; a revoked token is turned away (401) at once,
// and so is a made-up one. Tokens never unlock the admin API itself.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import type { Database } from "../../src/db/database.js";
import { problems } from "../../src/problems/catalogue.js";
import { CHEAP_PASSWORDS } from "../support/accountsSluice.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { pollUntil } from "../support/poll.js";
import { ADMIN_TOKEN, startServiceSluice, type ServiceSluice } from "./serviceSluice.js";

const LIMIT = { identifier: "user-42", limit: 5, duration: "1m" };

describe("service tokens at the rate-limit API", () => {
  let db: Database;
  let accounts: Accounts;
  let sluice: ServiceSluice;
  before(async () => {
    db = await openTestDatabase(await TEST_ENGINES[0]!.fresh());
    accounts = await openAccounts(db, { passwords: CHEAP_PASSWORDS });
    sluice = await startServiceSluice("", { accounts });
  });
  after(async () => {
    await sluice.close();
    await accounts.close();
  });

  const makeToken = async (body: Record<string, unknown>) => {
    const response = await fetch(`${sluice.url}/admin/api/service-tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    return (await response.json()) as { token: string; record: { id: string; rights: string[] } };
  };
  const code = async (response: Response) => ((await response.json()) as { code: string }).code;

  it("lets a token with the decide right decide and read, but not reset", async () => {
    const { token, record } = await makeToken({ name: "billing" });
    assert.deepEqual(record.rights, ["decide"], "decide only, unless asked");
    const decided = await pollUntil(() => sluice.post("/v1/ratelimit", LIMIT, token), (r) => r.status === 200);
    assert.deepEqual(await decided.json(), { allowed: true, limit: 5, remaining: 4, reset: sluice.clock.now + 12_000 });
    assert.equal((await sluice.post("/v1/ratelimit", { ...LIMIT, cost: 0 }, token)).status, 200);
    const reset = await sluice.post("/v1/ratelimit/reset", LIMIT, token);
    assert.equal(reset.status, 403);
    assert.equal(await code(reset), problems.forbidden.code);
  });

  it("lets a token with the reset right reset, and the admin token do both", async () => {
    const { token } = await makeToken({ name: "ops", rights: ["reset"] });
    const reset = await pollUntil(() => sluice.post("/v1/ratelimit/reset", LIMIT, token), (r) => r.status === 204);
    assert.equal(reset.status, 204);
    assert.equal((await sluice.post("/v1/ratelimit", LIMIT, token)).status, 403, "reset only: no decisions");
    assert.equal((await sluice.post("/v1/ratelimit", LIMIT, ADMIN_TOKEN)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit/reset", LIMIT, ADMIN_TOKEN)).status, 204);
  });

  it("turns a token away as soon as it is revoked", async () => {
    const { token, record } = await makeToken({ name: "leaked" });
    await pollUntil(() => sluice.post("/v1/ratelimit", LIMIT, token), (r) => r.status === 200);
    const revoke = await fetch(`${sluice.url}/admin/api/service-tokens/${record.id}/revoke`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(revoke.status, 200);
    const refused = await pollUntil(() => sluice.post("/v1/ratelimit", LIMIT, token), (r) => r.status === 401);
    assert.equal(refused.status, 401);
    assert.equal(await code(refused), problems.serviceUnauthorized.code);
  });

  it("turns away a token of the right shape that was never made", async () => {
    assert.equal((await sluice.post("/v1/ratelimit", LIMIT, `st_${"x".repeat(32)}`)).status, 401);
  });

  it("never lets a service token into the admin API", async () => {
    const { token } = await makeToken({ name: "curious", rights: ["decide", "reset"] });
    const admin = await fetch(`${sluice.url}/admin/api/service-tokens`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(admin.status, 401);
  });
});
