// A signed-in person's session cookie stands in for an API key on the gateway, for reading only:
// a GET or HEAD with the cookie reaches the upstream as that user, on their plan; a POST with it
// is refused as if no key were sent; a session that ended stops working once the short cache
// lets go of it. The session cookie itself never reaches the upstream: it learns who is calling
// from x-consumer-id.
//
// Then guessing: random well-formed sk_ keys each cost a database lookup, so an address that
// sends too many invalid keys (server.invalidKeys) is answered 429 without any more lookups until
// its window ends, while a key or session verified moments ago still passes from it and other
// addresses are not affected.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../../src/accounts/accounts.js";
import { generateApiKey } from "../../../src/accounts/apiKeys.js";
import { problems } from "../../../src/problems/catalogue.js";
import { startAccountsSluice, type AccountsSluice } from "../../support/accountsSluice.js";
import { ManualClock } from "../../support/manualClock.js";
import type { RecordingUpstream } from "../../support/recordingUpstream.js";
import type { TestSluice } from "../../support/testSluice.js";

let running: AccountsSluice;
let upstream: RecordingUpstream;
let accounts: Accounts;
let sluice: TestSluice;
const clock = new ManualClock(Date.now());

before(async () => {
  running = await startAccountsSluice((url) => `
services:
  echo: { upstream: "${url}", openapi: false }
`, { clock });
  ({ upstream, accounts, sluice } = running);
});
after(() => running.close());

async function withSession(token: string, method = "GET"): Promise<Response> {
  const response = await sluice.call("/api/echo/x", { method, headers: { cookie: `theme=dark; sluice_session=${token}` } });
  await response.body?.cancel();
  return response;
}

describe("a session cookie on the gateway", () => {
  it("reads as the signed-in user, on their plan", async () => {
    const user = await accounts.createUser({ email: "reader@example.com", password: "correct horse battery" });
    const { token } = await accounts.sessions.create(user.id);
    const response = await withSession(token);
    assert.equal(response.status, 200);
    assert.equal(upstream.received.at(-1)?.headers["x-consumer-id"], `user:${user.id}`);
    assert.match(response.headers.get("ratelimit-policy") ?? "", /"free-rate"/, "the user's plan applies");
    assert.equal((await withSession(token, "HEAD")).status, 200);
  });

  it("stays in Sluice: the upstream gets the other cookies, never the session that could be replayed", async () => {
    const user = await accounts.createUser({ email: "private@example.com", password: "correct horse battery" });
    const { token } = await accounts.sessions.create(user.id);
    assert.equal((await withSession(token)).status, 200);
    const seen = upstream.received.at(-1)!.headers;
    assert.equal(seen["x-consumer-id"], `user:${user.id}`);
    assert.equal(seen["cookie"], "theme=dark");
  });

  it("does not authorize a change: a POST with only the cookie is a missing key", async () => {
    const user = await accounts.createUser({ email: "writer@example.com", password: "correct horse battery" });
    const { token } = await accounts.sessions.create(user.id);
    const before = upstream.received.length;
    assert.equal((await withSession(token, "POST")).status, 401);
    assert.equal(upstream.received.length, before);
  });

  it("stops working once the session ends and the cache lets go of it", async () => {
    const user = await accounts.createUser({ email: "leaver@example.com", password: "correct horse battery" });
    const { token } = await accounts.sessions.create(user.id);
    assert.equal((await withSession(token)).status, 200);
    await accounts.sessions.revoke(token);
    clock.advance(2_001);
    assert.equal((await withSession(token)).status, 401);
    assert.equal((await withSession("not-a-session")).status, 401);
  });
});

describe("guessing keys from one address", () => {
  let guarded: AccountsSluice;
  before(async () => {
    // Loopback is a trusted proxy here, so each test names its client in X-Forwarded-For.
    guarded = await startAccountsSluice((url) => `
server: { trustedProxies: [loopback], invalidKeys: { limit: 3, window: 1m } }
services:
  echo: { upstream: "${url}", openapi: false }
`, { clock: new ManualClock(Date.now()) });
  });
  after(() => guarded.close());

  /** A GET from `address` with `key` (none: with `cookie`), and the database lookups it cost. */
  const from = async (address: string, key: string | undefined, cookie?: string) => {
    const misses = guarded.accounts.keyVerifier.cacheLookups.misses;
    const response = await guarded.sluice.call("/api/echo/x", { key, headers: { "x-forwarded-for": address, ...(cookie !== undefined && { cookie }) } });
    const body = (await response.json()) as { code?: string };
    return { status: response.status, code: body.code, retryAfter: response.headers.get("retry-after"), lookups: guarded.accounts.keyVerifier.cacheLookups.misses - misses };
  };
  const spend = async (address: string) => {
    for (let i = 0; i < 3; i++) assert.equal((await from(address, generateApiKey())).status, 401);
  };

  it("answers the first invalid keys with 401, then 429 without a lookup until the window ends", async () => {
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push(await from("203.0.113.1", generateApiKey()));
    assert.deepEqual(guesses.map((g) => [g.status, g.lookups]), [[401, 1], [401, 1], [401, 1]], "each random key costs one lookup");
    const throttled = await from("203.0.113.1", generateApiKey());
    assert.deepEqual(throttled, { status: 429, code: problems.tooManyInvalidKeys.code, retryAfter: "60", lookups: 0 });
    assert.equal((await from("203.0.113.1", "not-even-a-key")).status, 429);
    assert.equal((await from("203.0.113.1", undefined, "sluice_session=made-up")).status, 429, "a guessed session cookie too");
    assert.equal((await from("203.0.113.1", undefined)).status, 401, "no credential at all costs nothing: a plain 401");
    guarded.clock.advance(60_000);
    assert.deepEqual((await from("203.0.113.1", generateApiKey())).status, 401, "a new window: keys are looked up again");
  });

  it("counts guessed session cookies like keys", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await from("203.0.113.2", undefined, `sluice_session=guess-${i}`)).status, 401);
    assert.equal((await from("203.0.113.2", generateApiKey())).status, 429);
  });

  it("still serves a key verified moments ago from a blocked address, and leaves other addresses alone", async () => {
    const user = await guarded.accounts.createUser({ email: "neighbour@example.com", password: "correct horse battery" });
    const { key: warm } = await guarded.accounts.apiKeys.create(user.id, { name: "warm" });
    const { key: cold } = await guarded.accounts.apiKeys.create(user.id, { name: "cold" });
    assert.equal((await from("198.51.100.7", warm)).status, 200);
    await spend("198.51.100.7");
    assert.deepEqual(await from("198.51.100.7", warm), { status: 200, code: undefined, retryAfter: null, lookups: 0 });
    assert.equal((await from("198.51.100.7", cold)).status, 429, "a key not yet verified here waits like any other");
    assert.equal((await from("198.51.100.8", cold)).status, 200, "another address is not affected");
  });

  it("still serves a session looked up moments ago from a blocked address, as it does such a key", async () => {
    const user = await guarded.accounts.createUser({ email: "dashboard-user@example.com", password: "correct horse battery" });
    const warm = (await guarded.accounts.sessions.create(user.id)).token;
    const cold = (await guarded.accounts.sessions.create(user.id)).token;
    assert.equal((await from("198.51.100.9", undefined, `sluice_session=${warm}`)).status, 200);
    await spend("198.51.100.9");
    assert.equal((await from("198.51.100.9", undefined, `sluice_session=${warm}`)).status, 200);
    assert.equal((await from("198.51.100.9", undefined, `sluice_session=${cold}`)).status, 429, "a session not looked up here in the last 2 s waits");
    guarded.clock.advance(2_001);
    assert.equal((await from("198.51.100.9", undefined, `sluice_session=${warm}`)).status, 429, "once the session cache has let it go, it waits too");
  });
});
