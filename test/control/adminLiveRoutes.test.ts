// The admin's live views: the limit inspector shows every counter of a key, a user's signed-in
// calls or a client address as it stands (a per-address limit and the sign-in throttle for an
// address), and resets one of them — only one the subject has; the services view says which
// upstreams answer. An admin's session or the admin token may; a user gets 403, nobody 401.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import type { ApiKeyView } from "../../src/control/accountRoutes.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { TestBrowser } from "../support/testBrowser.js";
import type { TestSluice } from "../support/testSluice.js";

interface LimitView { counter: string; name: string; source: string; remaining: number; limit: number }
interface Inspection { subject: { kind: string; id: string; label: string }; limits: LimitView[] }

const ADMIN_TOKEN = "live-routes-admin-token";
const PASSWORD = "correct horse battery";

let running: AccountsSluice;
let accounts: Accounts;
let sluice: TestSluice;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

before(async () => {
  running = await startAccountsSluice((upstream) => `
limits:
  roomy: { algorithm: fixed-window, limit: 1000, window: 1m, by: [consumer] }
  per-address: { algorithm: sliding-window-log, limit: 50, window: 1m, by: [ip] }
services:
  echo: { upstream: "${upstream}", limits: [roomy, per-address], openapi: false }
  gone: { upstream: "http://127.0.0.1:9", limits: [roomy], openapi: false }
`, { adminToken: ADMIN_TOKEN });
  ({ accounts, sluice } = running);
});
after(() => running.close());

async function adminGet(path: string): Promise<Response> {
  return fetch(sluice.url + path, { headers: admin });
}

async function adminPost(path: string, body: unknown): Promise<Response> {
  return fetch(sluice.url + path, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function userWithKey(): Promise<{ browser: TestBrowser; key: string; record: ApiKeyView; userId: string }> {
  const browser = new TestBrowser(sluice.url);
  const signup = await browser.post("/auth/signup", { email: `inspected-${Date.now()}-${Math.random()}@example.com`, password: PASSWORD });
  assert.equal(signup.status, 201, signup.text);
  const { key, record } = (await browser.post("/account/api/keys", { name: "server" })).json as { key: string; record: ApiKeyView };
  return { browser, key, record, userId: (signup.json as { user: { id: string } }).user.id };
}

describe("the limit inspector", () => {
  it("finds a key by the start the pages show, with or without its ellipsis, as by its id", async () => {
    const { record } = await userWithKey();
    const byId = (await (await adminGet(`/admin/api/limits?keyId=${record.id}`)).json()) as Inspection;
    for (const shown of [record.start, `${record.start}…`]) {
      const response = await adminGet(`/admin/api/limits?keyId=${encodeURIComponent(shown)}`);
      assert.equal(response.status, 200, shown);
      const inspection = (await response.json()) as Inspection;
      assert.deepEqual(inspection.subject, byId.subject, shown);
    }
    const nonsense = await adminGet("/admin/api/limits?keyId=sk_nope");
    assert.equal(nonsense.status, 400);
    assert.match(await nonsense.text(), /sk_ and 6 characters/);
    assert.equal((await adminGet("/admin/api/limits?keyId=sk_ZZZZZZ")).status, 404);
  });

  it("shows a key's counters as they stand, and resets one", async () => {
    const { key, record } = await userWithKey();
    for (let i = 0; i < 3; i++) await (await sluice.call("/api/echo/x", { key })).body?.cancel();

    const response = await adminGet(`/admin/api/limits?keyId=${record.id}`);
    assert.equal(response.status, 200);
    const inspection = (await response.json()) as Inspection;
    assert.equal(inspection.subject.kind, "key");
    assert.match(inspection.subject.label, /^server \(sk_\w{6}…\) of inspected-/);
    const byName = new Map(inspection.limits.map((l) => [l.name, l]));
    assert.deepEqual([...byName.keys()].sort(), ["free-rate", "roomy"]);
    assert.equal(byName.get("roomy")?.remaining, 997);
    assert.equal(byName.get("free-rate")?.remaining, 2);

    const reset = await adminPost("/admin/api/limits/reset", { keyId: record.id, counter: byName.get("free-rate")!.counter });
    assert.equal(reset.status, 200);
    const after = (await reset.json()) as Inspection;
    assert.equal(after.limits.find((l) => l.name === "free-rate")?.remaining, 5);
    assert.equal(after.limits.find((l) => l.name === "roomy")?.remaining, 997, "only that counter");
  });

  it("shows an address's own counters and its sign-in and sign-up throttles", async () => {
    await fetch(`${sluice.url}/auth/login`, { method: "POST", headers: { "content-type": "application/json", origin: sluice.url }, body: JSON.stringify({ email: "nobody@example.com", password: "wrong password" }) });
    const { key } = await userWithKey();
    await (await sluice.call("/api/echo/x", { key })).body?.cancel();

    const inspection = (await (await adminGet("/admin/api/limits?ip=127.0.0.1")).json()) as Inspection;
    assert.deepEqual(inspection.subject, { kind: "ip", id: "127.0.0.1", label: "127.0.0.1" });
    const byName = new Map(inspection.limits.map((l) => [l.name, l]));
    assert.deepEqual([...byName.keys()].sort(), ["login.ip", "per-address", "signup.ip"]);
    assert.ok(byName.get("per-address")!.remaining < 50);
    assert.ok(byName.get("login.ip")!.remaining < byName.get("login.ip")!.limit);
    assert.equal(byName.get("login.ip")?.source, "sign-in");
    assert.ok(byName.get("signup.ip")!.remaining < byName.get("signup.ip")!.limit, "userWithKey signed up from here");
    assert.equal(byName.get("signup.ip")?.source, "sign-up");

    const reset = await adminPost("/admin/api/limits/reset", { ip: "127.0.0.1", counter: byName.get("login.ip")!.counter });
    const after = (await reset.json()) as Inspection;
    assert.equal(after.limits.find((l) => l.name === "login.ip")?.remaining, 100);
    const liftSignUps = await adminPost("/admin/api/limits/reset", { ip: "127.0.0.1", counter: byName.get("signup.ip")!.counter });
    assert.equal(((await liftSignUps.json()) as Inspection).limits.find((l) => l.name === "signup.ip")?.remaining, 20);
  });

  it("shows a user's signed-in counters", async () => {
    const { userId } = await userWithKey();
    const inspection = (await (await adminGet(`/admin/api/limits?userId=${userId}`)).json()) as Inspection;
    assert.equal(inspection.subject.kind, "user");
    assert.ok(inspection.limits.some((l) => l.name === "free-rate"));
  });

  it("refuses a counter that is not the subject's, and a question without exactly one subject", async () => {
    const { record } = await userWithKey();
    const foreign = await adminPost("/admin/api/limits/reset", { keyId: record.id, counter: "per-address|ip=127.0.0.1" });
    assert.equal(foreign.status, 400);
    assert.deepEqual(((await foreign.json()) as { invalidParams: unknown }).invalidParams, [{ name: "counter", reason: "not one of this subject's counters" }]);
    for (const query of ["", `?keyId=${record.id}&ip=127.0.0.1`, "?ip=not-an-address", "?keyId=nope", "?color=red"]) {
      const response = await adminGet(`/admin/api/limits${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.headers.get("content-type"), "application/problem+json", query);
    }
    assert.equal((await adminGet("/admin/api/limits?keyId=00000000-0000-4000-8000-000000000000")).status, 404);
  });
});

describe("the services view", () => {
  it("lists each service with its routes, limits and whether its upstream answers", async () => {
    const response = await adminGet("/admin/api/services");
    assert.equal(response.status, 200);
    const { items } = (await response.json()) as { items: { name: string; health: string; routes: { path: string; limits: string[] }[] }[] };
    assert.deepEqual(items.map((s) => [s.name, s.health]), [["echo", "reachable"], ["gone", "unreachable"]]);
    assert.deepEqual(items[0]!.routes, [{ path: "/*", methods: null, cost: 1, limits: ["roomy", "per-address"] }]);
  });
});

describe("who may look", () => {
  it("answers 403 to a signed-in user who is not an admin, 401 to nobody, and serves an admin's session", async () => {
    const { browser, userId } = await userWithKey();
    for (const path of ["/admin/api/services", "/admin/api/limits?ip=127.0.0.1"]) {
      assert.equal((await browser.get(path)).status, 403, path);
      assert.equal((await fetch(sluice.url + path)).status, 401, path);
    }
    assert.equal((await browser.post("/admin/api/limits/reset", { ip: "127.0.0.1", counter: "x" })).status, 403);
    await accounts.users.setRole(userId, "admin");
    assert.equal((await browser.get("/admin/api/services")).status, 200);
    const crossSite = await browser.post("/admin/api/limits/reset", { ip: "127.0.0.1", counter: "x" }, { origin: "https://evil.example" });
    assert.equal(crossSite.status, 403);
  });
});
