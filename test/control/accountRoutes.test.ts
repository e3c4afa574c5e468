// A signed-in user manages their own API keys over HTTP, as the dashboard's key pages will. A
// new key is shown once, in the answer that made it, and passes the gateway at once; lists show
// its start, never the key. Revoking it makes the gateway refuse it within a second; rotating
// gives a new key while the old one works through its grace. A user sees only their own keys, and
// another user's key id is answered exactly like one that names no key. After a config reload,
// the scopes offered and accepted are the new configuration's services.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import { parseConfig } from "../../src/config/loader.js";
import type { SluiceConfig } from "../../src/config/schema.js";
import { API_KEY_PATTERN } from "../../src/accounts/apiKeys.js";
import { ACCOUNT_OPENAPI_PATHS, type ApiKeyView } from "../../src/control/accountRoutes.js";
import { problems } from "../../src/problems/catalogue.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { ManualClock } from "../support/manualClock.js";
import { pollUntil } from "../support/poll.js";
import { signedIn as signedInAs } from "../support/signedIn.js";
import { TestBrowser, type BrowserResponse } from "../support/testBrowser.js";
import type { TestSluice } from "../support/testSluice.js";

const clock = new ManualClock();

let running: AccountsSluice;
let accounts: Accounts;
let sluice: TestSluice;

/** The gateway's config; `late` adds a service (to reload with) and `other: false` drops one. */
const gatewayYaml = (upstream: string, { late = false, other = true } = {}) => `
limits:
  roomy: { algorithm: fixed-window, limit: 1000, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", limits: [roomy], openapi: false }
${other ? `  other: { upstream: "${upstream}", limits: [roomy], openapi: false }\n` : ""}${late ? `  late: { upstream: "${upstream}", limits: [roomy], openapi: false }\n` : ""}`;

before(async () => {
  running = await startAccountsSluice((upstream) => gatewayYaml(upstream), { clock });
  ({ accounts, sluice } = running);
  // Room for every call these tests make: the free plan allows 5 per 30 s.
  await accounts.plans.set("roomy", { limits: { "roomy-rate": { algorithm: "fixed-window", limit: 1000, window: "1m" } } });
});
after(() => running.close());

/** A new person on the roomy plan, signed in in their own browser. */
const signedIn = () => signedInAs(running, { plan: "roomy", emailPrefix: "keyholder" });

async function createKey(browser: TestBrowser, body: Record<string, unknown> = { name: "laptop" }): Promise<{ key: string; record: ApiKeyView }> {
  const response = await browser.post("/account/api/keys", body);
  assert.equal(response.status, 201, response.text);
  return response.json as { key: string; record: ApiKeyView };
}

async function gatewayStatus(key: string, service = "echo"): Promise<number> {
  const response = await sluice.call(`/api/${service}/x`, { key });
  await response.body?.cancel();
  return response.status;
}

/** The status the gateway gives `key` once it reaches `expected`, polling for up to a second. */
function eventualStatus(key: string, expected: number): Promise<number> {
  return pollUntil(() => gatewayStatus(key), (status) => status === expected);
}

function assertProblem(response: BrowserResponse, kind: (typeof problems)[keyof typeof problems]): void {
  assert.equal(response.status, kind.status, response.text);
  assert.equal((response.json as { code: string }).code, kind.code);
}

const keysOf = async (browser: TestBrowser) => {
  const response = await browser.get("/account/api/keys");
  assert.equal(response.status, 200, response.text);
  return { text: response.text, keys: (response.json as { keys: ApiKeyView[] }).keys };
};

describe("a key's last use", () => {
  it("shows in its owner's list and in the admin's at once, before the batch that writes uses runs", async () => {
    const ada = await signedIn();
    const { key, record } = await createKey(ada, { name: "used" });
    assert.equal(await gatewayStatus(key), 200);
    const owned = (await keysOf(ada)).keys.find((k) => k.id === record.id);
    assert.notEqual(owned?.lastUsedAt, null);

    const { key: other, record: otherRecord } = await createKey(ada, { name: "used later" });
    assert.equal(await gatewayStatus(other), 200);
    const admin = await accounts.createUser({ email: `key-admin-${record.id}@example.com`, password: "correct horse battery", role: "admin" });
    const browser = new TestBrowser(sluice.url);
    assert.equal((await browser.post("/auth/login", { email: admin.email, password: "correct horse battery" })).status, 200);
    const { userId } = (await accounts.apiKeys.get(record.id))!;
    const response = await browser.get(`/admin/api/keys?userId=${userId}`);
    assert.equal(response.status, 200, response.text);
    const listed = (response.json as { items: { id: string; lastUsedAt: string | null }[] }).items.find((k) => k.id === otherRecord.id);
    assert.notEqual(listed?.lastUsedAt, null, response.text);
  });
});

describe("creating a key", () => {
  it("shows the key once; it passes the gateway, and the listing shows its start but never the key", async () => {
    const ada = await signedIn();
    const { key, record } = await createKey(ada, { name: "laptop" });
    assert.match(key, API_KEY_PATTERN);
    assert.equal(record.start, key.slice(0, 9));
    assert.deepEqual(Object.keys(record).sort(), ["createdAt", "expiresAt", "id", "lastUsedAt", "name", "plan", "replacedBy", "revokedAt", "scopes", "start"]);
    assert.equal(record.name, "laptop");
    assert.equal(record.scopes, null);
    assert.equal(record.createdAt, new Date(clock.now).toISOString());

    assert.equal(await gatewayStatus(key), 200);
    const { text, keys } = await keysOf(ada);
    assert.deepEqual(keys.map((k) => k.id), [record.id]);
    assert.ok(!text.includes(key), "the key itself is never listed");
    assert.doesNotMatch(text, /hash/i);
  });

  it("limits a key to the services it names", async () => {
    const ada = await signedIn();
    const { key, record } = await createKey(ada, { name: "echo only", scopes: ["echo", "echo"] });
    assert.deepEqual(record.scopes, ["echo"]);
    assert.equal(await gatewayStatus(key, "echo"), 200);
    assert.equal(await gatewayStatus(key, "other"), 403);
  });

  it("keeps an expiry, and refuses one in the past", async () => {
    const ada = await signedIn();
    const expiresAt = new Date(clock.now + 86_400_000).toISOString();
    assert.equal((await createKey(ada, { name: "tomorrow", expiresAt })).record.expiresAt, expiresAt);
    const past = await ada.post("/account/api/keys", { name: "yesterday", expiresAt: new Date(clock.now - 1).toISOString() });
    assertProblem(past, problems.badRequest);
    assert.deepEqual((past.json as { invalidParams: unknown }).invalidParams, [{ name: "expiresAt", reason: "must be in the future" }]);
  });

  it("names each bad field with 400", async () => {
    const ada = await signedIn();
    const names = async (body: unknown) => {
      const response = await ada.post("/account/api/keys", body);
      assertProblem(response, problems.badRequest);
      return (response.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name);
    };
    assert.deepEqual(await names({}), ["name"]);
    assert.deepEqual(await names({ name: "  " }), ["name"]);
    assert.deepEqual(await names({ name: "x", scopes: ["nope"] }), ["scopes.0"]);
    assert.deepEqual(await names({ name: "x", scopes: ["Not A Name"] }), ["scopes.0"]);
    assert.deepEqual(await names({ name: "x", expiresAt: "tomorrow" }), ["expiresAt"]);
    assert.deepEqual(await names({ name: "x", plan: "premium" }), ["plan"], "a user cannot choose a plan");
  });

  it("needs a session, from this origin", async () => {
    assertProblem(await new TestBrowser(sluice.url).post("/account/api/keys", { name: "x" }), problems.notSignedIn);
    const ada = await signedIn();
    assertProblem(await ada.post("/account/api/keys", { name: "x" }, { origin: "http://evil.example" }), problems.crossSite);
    assert.deepEqual((await keysOf(ada)).keys, []);
  });
});

describe("listing keys", () => {
  it("shows a user their own keys only, newest first", async () => {
    const ada = await signedIn();
    const grace = await signedIn();
    const first = await createKey(ada, { name: "first" });
    clock.advance(1_000);
    const second = await createKey(ada, { name: "second" });
    await createKey(grace, { name: "grace's" });
    assert.deepEqual((await keysOf(ada)).keys.map((k) => k.id), [second.record.id, first.record.id]);
    assert.deepEqual((await keysOf(grace)).keys.map((k) => k.name), ["grace's"]);
    assertProblem(await new TestBrowser(sluice.url).get("/account/api/keys"), problems.notSignedIn);
  });
});

describe("revoking a key", () => {
  it("makes the gateway refuse it within a second; the listing shows when", async () => {
    const ada = await signedIn();
    const { key, record } = await createKey(ada);
    assert.equal(await gatewayStatus(key), 200);
    const response = await ada.delete(`/account/api/keys/${record.id}`);
    assert.equal(response.status, 204);
    assert.equal(await eventualStatus(key, 401), 401);
    const [listed] = (await keysOf(ada)).keys;
    assert.equal(listed!.revokedAt, new Date(clock.now).toISOString());
  });

  it("answers another user's key, an unknown id and a malformed one alike with 404, and leaves the key alone", async () => {
    const ada = await signedIn();
    const mallory = await signedIn();
    const { key, record } = await createKey(ada);
    for (const id of [record.id, "00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      assertProblem(await mallory.delete(`/account/api/keys/${id}`), problems.notFound);
      assertProblem(await mallory.post(`/account/api/keys/${id}/rotate`), problems.notFound);
    }
    assert.equal(await gatewayStatus(key), 200);
    assert.equal((await keysOf(ada)).keys[0]!.revokedAt, null);
  });

  it("is refused from another origin", async () => {
    const ada = await signedIn();
    const { key, record } = await createKey(ada);
    assertProblem(await ada.delete(`/account/api/keys/${record.id}`, { origin: "http://evil.example" }), problems.crossSite);
    assert.equal(await gatewayStatus(key), 200);
  });
});

describe("rotating a key", () => {
  it("gives a new working key; the old one works through its grace, then not", async () => {
    const ada = await signedIn();
    const old = await createKey(ada, { name: "ci", scopes: ["echo"] });
    const response = await ada.post(`/account/api/keys/${old.record.id}/rotate`);
    assert.equal(response.status, 201, response.text);
    const { key, record, replaced } = response.json as { key: string; record: ApiKeyView; replaced: ApiKeyView };
    assert.match(key, API_KEY_PATTERN);
    assert.notEqual(key, old.key);
    assert.equal(record.name, "ci (2)", "a name of its own beside the old key");
    assert.deepEqual(record.scopes, ["echo"]);
    assert.equal(replaced.id, old.record.id);
    assert.equal(replaced.replacedBy, record.id);
    assert.equal(replaced.expiresAt, new Date(clock.now + 3600_000).toISOString(), "an hour's grace by default");

    assert.equal(await gatewayStatus(key), 200);
    assert.equal(await eventualStatus(old.key, 200), 200, "within its grace");
    clock.advance(3600_000);
    assert.equal(await eventualStatus(old.key, 401), 401, "after it");
    assert.equal(await gatewayStatus(key), 200);
    assert.ok(!(await keysOf(ada)).text.includes(key));
  });

  it("ends the old key at once with no grace, and refuses to rotate it twice", async () => {
    const ada = await signedIn();
    const old = await createKey(ada);
    const response = await ada.post(`/account/api/keys/${old.record.id}/rotate`, { graceSeconds: 0 });
    assert.equal(response.status, 201);
    assert.equal(await eventualStatus(old.key, 401), 401);
    assertProblem(await ada.post(`/account/api/keys/${old.record.id}/rotate`), problems.conflict);
  });

  it("allows a grace of at most a week", async () => {
    const ada = await signedIn();
    const { record } = await createKey(ada);
    const response = await ada.post(`/account/api/keys/${record.id}/rotate`, { graceSeconds: 7 * 86_400 + 1 });
    assertProblem(response, problems.badRequest);
    assert.deepEqual((response.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name), ["graceSeconds"]);
  });
});

describe("scopes after a config reload", () => {
  /** The YAML as the config watcher would hand it to reload, on the running address. */
  const reloaded = (yaml: string): SluiceConfig => {
    const parsed = parseConfig(yaml, "reloaded.yaml");
    return { ...parsed, server: { ...parsed.server, host: "127.0.0.1", port: 0 } };
  };
  after(() => sluice.reload(reloaded(gatewayYaml(running.upstream.url))));

  it("offers and accepts a service the reload added, and refuses one it removed, at once", async () => {
    const ada = await signedIn();
    const offered = async () => ((await ada.get("/dashboard/services.json")).json as { services: string[] }).services;
    const scopeRefused = async (scope: string) => {
      const response = await ada.post("/account/api/keys", { name: scope, scopes: [scope] });
      assertProblem(response, problems.badRequest);
      assert.deepEqual((response.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name), ["scopes.0"]);
    };
    assert.deepEqual(await offered(), ["echo", "other"]);
    await scopeRefused("late");

    await sluice.reload(reloaded(gatewayYaml(running.upstream.url, { late: true, other: false })));
    assert.deepEqual(await offered(), ["echo", "late"]);
    const { key, record } = await createKey(ada, { name: "late only", scopes: ["late"] });
    assert.deepEqual(record.scopes, ["late"]);
    assert.equal(await gatewayStatus(key, "late"), 200);
    assert.equal(await gatewayStatus(key, "echo"), 403);
    await scopeRefused("other");
  });
});

describe("the OpenAPI fragment", () => {
  it("describes each key endpoint with the session scheme and its problems", () => {
    assert.deepEqual(Object.keys(ACCOUNT_OPENAPI_PATHS).sort(), ["/account/api/keys", "/account/api/keys/{id}", "/account/api/keys/{id}/rotate"]);
    const create = ACCOUNT_OPENAPI_PATHS["/account/api/keys"]!["post"]!;
    assert.deepEqual(create.security, [{ session: [] }]);
    const schema = create.requestBody!.content["application/json"]!.schema as { required: string[]; properties: Record<string, unknown> };
    assert.deepEqual(schema.required, ["name"]);
    assert.deepEqual(Object.keys(schema.properties).sort(), ["expiresAt", "name", "scopes"]);
    assert.deepEqual(create.responses["409"]!.content!["application/problem+json"]?.schema, { $ref: "#/components/schemas/Problem" });
  });
});
