// A forgotten password, without email: an admin (token or session) issues a one-time reset token
// for a user; the user sets a new password with it and is signed in, every other session of theirs
// ends, and the token works once, for a day, and only the newest one. A user who is not an admin
// gets 403; an unknown, used or expired token is a 400 naming `token` that says nothing of any
// account; a disabled account's password is set but it is not signed in.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import { RESET_TTL_MS } from "../../src/accounts/passwordResets.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { TestBrowser, type BrowserResponse } from "../support/testBrowser.js";
import type { TestSluice } from "../support/testSluice.js";

const ADMIN_TOKEN = "reset-admin-token";
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a fresh passphrase";

let running: AccountsSluice;
let accounts: Accounts;
let sluice: TestSluice;
let people = 0;

before(async () => {
  running = await startAccountsSluice((upstream) => `services:\n  echo: { upstream: "${upstream}", openapi: false }\n`, { adminToken: ADMIN_TOKEN });
  ({ accounts, sluice } = running);
});
after(() => running.close());

async function signedUp(): Promise<{ browser: TestBrowser; email: string; id: string }> {
  const browser = new TestBrowser(sluice.url);
  const email = `reset-${++people}@example.com`;
  const response = await browser.post("/auth/signup", { email, password: PASSWORD });
  assert.equal(response.status, 201, response.text);
  return { browser, email, id: (response.json as { user: { id: string } }).user.id };
}

async function issue(userId: string): Promise<{ token: string; expiresAt: string }> {
  const response = await fetch(`${sluice.url}/admin/api/users/${userId}/password-reset`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(response.status, 201, await response.clone().text());
  assert.equal(response.headers.get("cache-control"), "no-store");
  return (await response.json()) as { token: string; expiresAt: string };
}

function refusedToken(response: BrowserResponse): void {
  assert.equal(response.status, 400, response.text);
  assert.deepEqual((response.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name), ["token"]);
}

const logIn = (email: string, password: string) => new TestBrowser(sluice.url).post("/auth/login", { email, password });

describe("a password reset", () => {
  it("sets the new password, signs this browser in, ends every other session, and works once", async () => {
    const { browser: elsewhere, email, id } = await signedUp();
    const { token, expiresAt } = await issue(id);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Date.parse(expiresAt), running.clock.now + RESET_TTL_MS);

    const browser = new TestBrowser(sluice.url);
    const reset = await browser.post("/auth/reset", { token, newPassword: NEW_PASSWORD });
    assert.equal(reset.status, 200, reset.text);
    assert.equal((reset.json as { user: { email: string } }).user.email, email);
    assert.equal((await browser.get("/auth/me")).status, 200, "signed in");
    assert.equal((await elsewhere.get("/auth/me")).status, 401, "the other session ended");
    assert.equal((await logIn(email, PASSWORD)).status, 401);
    assert.equal((await logIn(email, NEW_PASSWORD)).status, 200);

    refusedToken(await new TestBrowser(sluice.url).post("/auth/reset", { token, newPassword: "yet another one" }));
  });

  it("works only with the newest token, and for a day", async () => {
    const { email, id } = await signedUp();
    const first = await issue(id);
    const second = await issue(id);
    refusedToken(await new TestBrowser(sluice.url).post("/auth/reset", { token: first.token, newPassword: NEW_PASSWORD }));
    running.clock.advance(RESET_TTL_MS);
    refusedToken(await new TestBrowser(sluice.url).post("/auth/reset", { token: second.token, newPassword: NEW_PASSWORD }));
    assert.equal((await logIn(email, PASSWORD)).status, 200, "the password is unchanged");
  });

  it("refuses a made-up token and a short password, naming the field", async () => {
    const { id } = await signedUp();
    refusedToken(await new TestBrowser(sluice.url).post("/auth/reset", { token: "A".repeat(43), newPassword: NEW_PASSWORD }));
    const { token } = await issue(id);
    const short = await new TestBrowser(sluice.url).post("/auth/reset", { token, newPassword: "short" });
    assert.equal(short.status, 400);
    assert.deepEqual((short.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name), ["newPassword"]);
  });

  it("sets a disabled account's password but tells it it is disabled, without a session", async () => {
    const { email, id } = await signedUp();
    await accounts.users.setDisabled(id, true);
    const { token } = await issue(id);
    const browser = new TestBrowser(sluice.url);
    const response = await browser.post("/auth/reset", { token, newPassword: NEW_PASSWORD });
    assert.equal(response.status, 403);
    assert.equal((response.json as { code: string }).code, "SLUICE_ERR_ACCOUNT_DISABLED");
    assert.equal(browser.cookie, undefined);
    await accounts.users.setDisabled(id, false);
    assert.equal((await logIn(email, NEW_PASSWORD)).status, 200);
  });

  it("is issued to admins only, for a user that exists, and used from Sluice's own pages only", async () => {
    const { browser, id } = await signedUp();
    assert.equal((await browser.post(`/admin/api/users/${id}/password-reset`)).status, 403);
    assert.equal((await new TestBrowser(sluice.url).post(`/admin/api/users/${id}/password-reset`)).status, 401);
    const unknown = await fetch(`${sluice.url}/admin/api/users/00000000-0000-4000-8000-000000000000/password-reset`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(unknown.status, 404);
    const { token } = await issue(id);
    const foreign = await new TestBrowser(sluice.url).request("POST", "/auth/reset", { body: { token, newPassword: NEW_PASSWORD }, origin: "https://elsewhere.example" });
    assert.equal(foreign.status, 403);
    assert.equal((foreign.json as { code: string }).code, "SLUICE_ERR_CROSS_SITE");
  });

  it("is in the OpenAPI document", async () => {
    const document = (await (await fetch(`${sluice.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(document.paths["/auth/reset"]);
    assert.ok(document.paths["/admin/api/users/{id}/password-reset"]);
  });
});
