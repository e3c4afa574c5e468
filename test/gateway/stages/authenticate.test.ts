// A signed-in person's session cookie stands in for an API key on the gateway, for reading only:
// a GET or HEAD with the cookie reaches the upstream as that user, on their plan; a POST with it
// is refused as if no key were sent; a session that ended stops working once the short cache
// lets go of it. The session cookie itself never reaches the upstream: it learns who is calling
// from x-consumer-id.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../../src/accounts/accounts.js";
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
