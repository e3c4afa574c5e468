// The session cookie behind a load balancer that ends TLS. The browser speaks HTTPS to the
// balancer, which speaks HTTP to Sluice and says `X-Forwarded-Proto: https`. From a peer in
// `server.trustedProxies` that is believed: the cookie is `Secure` and named `__Host-sluice_session`,
// and the session it carries works. From any other peer the same header is a client's claim and is
// ignored: the plain cookie, as over HTTP.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SESSION_TTL_MS } from "../../src/accounts/sessions.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { TestBrowser } from "../support/testBrowser.js";

const PASSWORD = "correct horse battery";
const OVER_TLS = { "x-forwarded-proto": "https" };

/** A Sluice whose trusted proxies are `trustedProxies`; the tests connect from 127.0.0.1. */
function sluiceTrusting(trustedProxies: string) {
  const env = {} as { running: AccountsSluice };
  before(async () => {
    env.running = await startAccountsSluice((upstream) => `
server: { trustedProxies: ${trustedProxies} }
services:
  echo: { upstream: "${upstream}", openapi: false }
`);
  });
  after(() => env.running.close());
  return env;
}

describe("behind a trusted TLS proxy", () => {
  const env = sluiceTrusting('["loopback"]');

  it("sets a Secure __Host- cookie at sign-up, and the session it carries works", async () => {
    const browser = new TestBrowser(env.running.sluice.url);
    const response = await browser.post("/auth/signup", { email: "tls@example.com", password: PASSWORD }, { headers: OVER_TLS });
    assert.equal(response.status, 201, response.text);
    const [cookie, ...others] = response.headers.getSetCookie();
    assert.equal(others.length, 0);
    const token = /^__Host-sluice_session=([A-Za-z0-9_-]{43});/.exec(cookie ?? "")?.[1];
    assert.ok(token !== undefined, cookie);
    const expires = new Date(env.running.clock.now + SESSION_TTL_MS).toUTCString();
    assert.equal(cookie, `__Host-sluice_session=${token}; Path=/; Expires=${expires}; HttpOnly; Secure; SameSite=Lax`);

    assert.equal((await browser.get("/auth/me", { headers: OVER_TLS })).status, 200);
  });

  it("clears the __Host- cookie, Secure, at sign-out", async () => {
    const browser = new TestBrowser(env.running.sluice.url);
    assert.equal((await browser.post("/auth/signup", { email: "leaving@example.com", password: PASSWORD }, { headers: OVER_TLS })).status, 201);
    const response = await browser.post("/auth/logout", undefined, { headers: OVER_TLS });
    assert.equal(response.status, 204);
    assert.deepEqual(response.headers.getSetCookie(), ["__Host-sluice_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"]);
  });

  it("still sets the plain cookie when the proxy says the browser used HTTP", async () => {
    const response = await new TestBrowser(env.running.sluice.url).post("/auth/signup", { email: "plain@example.com", password: PASSWORD }, { headers: { "x-forwarded-proto": "http" } });
    assert.match(response.headers.getSetCookie()[0] ?? "", /^sluice_session=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
  });
});

describe("from a peer that is not a trusted proxy", () => {
  const env = sluiceTrusting('["10.0.0.0/8"]');

  it("ignores X-Forwarded-Proto: the plain cookie, not Secure", async () => {
    const response = await new TestBrowser(env.running.sluice.url).post("/auth/signup", { email: "claims-tls@example.com", password: PASSWORD }, { headers: OVER_TLS });
    assert.equal(response.status, 201, response.text);
    const cookie = response.headers.getSetCookie()[0] ?? "";
    assert.match(cookie, /^sluice_session=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
  });
});
