// What a stranger can make the control plane read. Parsing JSON is work on the one main thread, so
// a body is read only by a route that takes one, and a route that needs a caller checks them
// first. Each request here declares a 1 MiB body of nested brackets and sends only its first bytes:
// an answer that arrives anyway was given without reading the body, let alone parsing it. An
// unknown path gets its 404, a route that takes no body 413, and both close the connection (the
// rest of the body is never read); the account and admin APIs answer 401 to a stranger.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import type { Database } from "../../src/db/database.js";
import { openDatabase } from "../../src/db/openDatabase.js";
import { problems } from "../../src/problems/catalogue.js";
import { CHEAP_PASSWORDS } from "../support/accountsSluice.js";
import { TEST_ENGINES } from "../support/databases.js";
import { problemCode, sendRaw, startBenchWith, type HostileBench } from "../gateway/hostile/hostileHarness.js";

const DECLARED = 1024 * 1024;
const FIRST_BYTES = "[".repeat(100);

let db: Database;
let accounts: Accounts;
let bench: HostileBench;
before(async () => {
  db = await openDatabase(await TEST_ENGINES[0]!.fresh());
  accounts = await openAccounts(db, { passwords: CHEAP_PASSWORDS });
  bench = await startBenchWith((upstream) => `services: { echo: { upstream: "${upstream}", openapi: false } }`, { accounts, adminToken: "admin-secret" });
});
after(async () => {
  await bench.close();
  await accounts.close();
  await db.close();
});

/** `method target` declaring a JSON body of `declared` bytes of which only the first 100 are sent; `headers` are extra lines. */
function withUnsentBody(method: string, target: string, headers = "", declared = DECLARED): string[] {
  return [`${method} ${target} HTTP/1.1\r\nHost: ${bench.authority}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n${headers}\r\n`, FIRST_BYTES];
}

describe("a body nobody takes", () => {
  it("at an unknown path gets the 404 at once, and the connection closes", async () => {
    const reply = await sendRaw(bench, withUnsentBody("POST", "/no/such/path"));
    assert.deepEqual(reply.statuses, [404], reply.raw.slice(0, 300));
    assert.equal(problemCode(reply), problems.notFound.code);
    assert.equal(reply.closedByServer, true);
  });

  it("on a route that takes none gets 413 at once, and the connection closes: sign-out, health, revoking a key", async () => {
    for (const [method, target] of [["POST", "/auth/logout"], ["GET", "/healthz"], ["DELETE", "/account/api/keys/00000000-0000-4000-8000-000000000000"]] as const) {
      const reply = await sendRaw(bench, withUnsentBody(method, target));
      assert.deepEqual(reply.statuses, [413], `${method} ${target}: ${reply.raw.slice(0, 300)}`);
      assert.equal(problemCode(reply), problems.payloadTooLarge.code);
      assert.match((JSON.parse(reply.body) as { detail: string }).detail, /takes no request body/);
      assert.equal(reply.closedByServer, true, `${method} ${target}`);
    }
  });
});

describe("a body for a route that needs a caller", () => {
  it("gets 401 at once when nobody is signed in: a new API key, a password change", async () => {
    // 1,000 bytes fit every route's limit: only the missing session can answer before they arrive.
    for (const target of ["/account/api/keys", "/account/api/keys/00000000-0000-4000-8000-000000000000/rotate", "/auth/password"]) {
      const reply = await sendRaw(bench, withUnsentBody("POST", target, "Connection: close\r\n", 1000));
      assert.deepEqual(reply.statuses, [401], `${target}: ${reply.raw.slice(0, 300)}`);
      assert.equal(problemCode(reply), problems.notSignedIn.code);
    }
  });

  it("gets 401 at once from the admin API without the admin token or an admin's session", async () => {
    const reply = await sendRaw(bench, withUnsentBody("POST", "/admin/api/users", "Connection: close\r\nAuthorization: Bearer not-the-token\r\n", 1000));
    assert.deepEqual(reply.statuses, [401], reply.raw.slice(0, 300));
    assert.equal(problemCode(reply), problems.notSignedIn.code);
  });
});
