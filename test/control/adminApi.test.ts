// The admin API as an operator's script (the admin token) and an admin's browser (a session
// cookie) use it, over real HTTP, on each database engine. Only admins get in: nobody, a wrong
// token and an ordinary user's session are turned away, and a cookie cannot be ridden by another
// site's page. Users come a page at a time with filters; users are created and changed, but the
// last enabled admin cannot be demoted or disabled. A key made here works at the gateway until it
// is revoked here; a plan edited here governs its users' next requests; a plan in use stays.
// Every documented endpoint exists. Assertions name problem codes, never wording.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import { ADMIN_OPENAPI_PATHS, ADMIN_SECURITY_SCHEMES } from "../../src/control/adminApi.js";
import { problems } from "../../src/problems/catalogue.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { pollUntil } from "../support/poll.js";
import { TEST_ENGINES } from "../support/databases.js";
import { ManualClock } from "../support/manualClock.js";
import type { TestSluice } from "../support/testSluice.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
const PASSWORD = "correct horse battery";

interface Problem {
  readonly code: string;
  readonly invalidParams?: readonly { readonly name: string; readonly reason: string }[];
}
interface UserJson {
  readonly id: string;
  readonly email: string;
  readonly role: "admin" | "user";
  readonly plan: string;
  readonly disabledAt: string | null;
  readonly createdAt: string;
}
interface UserPageJson {
  readonly items: UserJson[];
  readonly total: number;
  readonly nextCursor?: string;
}
interface KeyJson {
  readonly id: string;
  readonly start: string;
  readonly userId: string;
  readonly revokedAt: string | null;
  readonly replacedBy: string | null;
  readonly expiresAt: string | null;
}
interface NewKeyJson {
  readonly key: string;
  readonly record: KeyJson;
  readonly replaced?: KeyJson;
}
interface PlanJson {
  readonly name: string;
  readonly limits: Record<string, unknown>;
}

const byToken = (token = ADMIN_TOKEN): Record<string, string> => ({ authorization: `Bearer ${token}` });
const bySession = (session: string): Record<string, string> => ({ cookie: `sluice_session=${session}` });

/** Polls until `done` holds of the answer or a second has passed; answers the last one, its body read. */
function within1s(request: () => Promise<Response>, done: (response: Response) => boolean): Promise<Response> {
  return pollUntil(async () => {
    const response = await request();
    await response.body?.cancel();
    return response;
  }, done);
}

for (const engine of TEST_ENGINES) {
  describe(`the admin API on the ${engine.name} engine`, () => {
    const clock = new ManualClock();
    let running: AccountsSluice;
    let accounts: Accounts;
    let sluice: TestSluice;
    let rootAdmin: UserJson;
    let adminSession: string;
    let userSession: string;

    before(async () => {
      running = await startAccountsSluice((upstream) => `
limits:
  per-route: { algorithm: fixed-window, limit: 1000, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", limits: [per-route], openapi: false }
`, { location: await engine.fresh(), clock, adminToken: ADMIN_TOKEN });
      ({ accounts, sluice } = running);
      const admin = await accounts.createUser({ email: "root@example.com", password: PASSWORD, role: "admin" });
      rootAdmin = { ...admin, disabledAt: null, createdAt: admin.createdAt.toISOString() };
      adminSession = (await accounts.sessions.create(admin.id)).token;
      const user = await accounts.createUser({ email: "plain@example.com", password: PASSWORD });
      userSession = (await accounts.sessions.create(user.id)).token;
    });
    after(() => running.close());

    /** One admin API call; the admin token unless `headers` say otherwise. */
    async function api<T = Problem>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
      const hasBody = options.body !== undefined;
      const response = await fetch(`${sluice.url}/admin/api${path}`, {
        method,
        headers: { ...(options.headers ?? byToken()), ...(hasBody && { "content-type": "application/json" }) },
        ...(hasBody && { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
      });
      const text = await response.text();
      assert.doesNotMatch(text, /scrypt\$|passwordHash|keyHash|key_hash/, "no hash ever leaves");
      return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
    }

    const gateway = async (key: string) => sluice.call("/api/echo/x", { key });
    const fieldsNamed = (problem: Problem) => (problem.invalidParams ?? []).map((p) => p.name);

    describe("who may call it", () => {
      it("turns away a caller with no credentials, or a wrong token, as not signed in", async () => {
        const none = await api("GET", "/users", { headers: {} });
        assert.equal(none.status, 401);
        assert.equal(none.body.code, problems.notSignedIn.code);
        const wrong = await api("GET", "/users", { headers: byToken("not-the-token") });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.body.code, problems.notSignedIn.code);
      });

      it("forbids an ordinary user's session", async () => {
        const answer = await api("GET", "/users", { headers: bySession(userSession) });
        assert.equal(answer.status, 403);
        assert.equal(answer.body.code, problems.forbidden.code);
      });

      it("lets in the admin token and an admin's session", async () => {
        assert.equal((await api("GET", "/plans")).status, 200);
        const viaSession = await api<UserJson>("GET", `/users/${rootAdmin.id}`, { headers: bySession(adminSession) });
        assert.equal(viaSession.status, 200);
        assert.equal(viaSession.body.email, "root@example.com");
        const sameOrigin = await api("PUT", "/plans/from-the-dashboard", {
          headers: { ...bySession(adminSession), origin: sluice.url },
          body: { limits: { "dash-rate": { limit: 5, window: "1m" } } },
        });
        assert.equal(sameOrigin.status, 201);
      });

      it("refuses a change with an admin's cookie from another site, but not with the token, which no page holds", async () => {
        const body = { limits: { "x-rate": { limit: 5, window: "1m" } } };
        const crossSite = await api("PUT", "/plans/cross-site", { headers: { ...bySession(adminSession), origin: "https://evil.example" }, body });
        assert.equal(crossSite.status, 403);
        assert.equal(crossSite.body.code, problems.crossSite.code);
        const fetchMetadata = await api("PUT", "/plans/cross-site", { headers: { ...bySession(adminSession), "sec-fetch-site": "cross-site" }, body });
        assert.equal(fetchMetadata.status, 403);
        assert.equal(fetchMetadata.body.code, problems.crossSite.code);
        const withToken = await api("PUT", "/plans/cross-site", { headers: { ...byToken(), origin: "https://evil.example" }, body });
        assert.equal(withToken.status, 201);
      });

      it("reads no body for a stranger and no body beyond 64 KiB for an admin", async () => {
        const stranger = await api("POST", "/users", { headers: {}, body: "{ not json" });
        assert.equal(stranger.status, 401, "refused before the malformed body is parsed");
        const huge = await api("POST", "/users", { body: { email: "big@example.com", password: "x".repeat(70 * 1024) } });
        assert.equal(huge.status, 413);
        assert.equal(huge.body.code, "SLUICE_ERR_PAYLOAD_TOO_LARGE");
      });
    });

    describe("users", () => {
      it("creates a user, and refuses a taken email (in any case), a bad password, a bad email and an unknown plan", async () => {
        const created = await api<UserJson>("POST", "/users", { body: { email: "ada@example.com", password: PASSWORD, plan: "premium" } });
        assert.equal(created.status, 201);
        assert.equal(created.body.role, "user");
        assert.equal(created.body.plan, "premium");
        assert.equal(created.body.disabledAt, null);
        assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)), "times are ISO strings");
        const fetched = await api<UserJson>("GET", `/users/${created.body.id}`);
        assert.deepEqual(fetched.body, created.body);

        const taken = await api("POST", "/users", { body: { email: "ADA@example.com", password: PASSWORD } });
        assert.equal(taken.status, 409);
        assert.equal(taken.body.code, problems.conflict.code);
        for (const [body, field] of [
          [{ email: "bob@example.com", password: "short" }, "password"],
          [{ email: "not an address", password: PASSWORD }, "email"],
          [{ email: "cy@example.com", password: PASSWORD, plan: "no-such-plan" }, "plan"],
          [{ email: "cy@example.com", password: PASSWORD, role: "owner" }, "role"],
          [{ email: "cy@example.com", password: PASSWORD, shoeSize: 9 }, "shoeSize"],
          [{ password: PASSWORD }, "email"],
        ] as const) {
          const refused = await api("POST", "/users", { body });
          assert.equal(refused.status, 400, field);
          assert.equal(refused.body.code, problems.badRequest.code);
          assert.deepEqual(fieldsNamed(refused.body), [field]);
        }
        assert.equal((await api("GET", "/users/00000000-0000-4000-8000-000000000000")).body.code, problems.notFound.code);
        assert.equal((await api("GET", "/users/not-a-uuid")).status, 404);
      });

      it("lists users a page at a time, by email address, with filters and an honest total", async () => {
        assert.equal((await api("PUT", "/plans/paging", { body: { limits: {} } })).status, 201);
        const made: UserJson[] = [];
        for (const n of [3, 0, 6, 1, 5, 2, 4]) {
          const answer = await api<UserJson>("POST", "/users", { body: { email: `Page-${n}@example.com`, password: PASSWORD, plan: "paging" } });
          assert.equal(answer.status, 201);
          made.push(answer.body);
        }
        await api("POST", "/users", { body: { email: "page-elsewhere@example.com", password: PASSWORD } });
        const disabled = made.filter((u) => u.email === "Page-2@example.com" || u.email === "Page-5@example.com");
        for (const user of disabled) assert.equal((await api("PATCH", `/users/${user.id}`, { body: { disabled: true } })).status, 200);

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const query = `?plan=paging&disabled=false&email=PAGE-&limit=2${cursor === undefined ? "" : `&cursor=${cursor}`}`;
          const page = await api<UserPageJson>("GET", `/users${query}`);
          assert.equal(page.status, 200);
          assert.equal(page.body.total, 5);
          seen.push(...page.body.items.map((u) => u.email));
          cursor = page.body.nextCursor;
          pages++;
        } while (cursor !== undefined);
        assert.equal(pages, 3);
        assert.deepEqual(seen, ["Page-0@example.com", "Page-1@example.com", "Page-3@example.com", "Page-4@example.com", "Page-6@example.com"]);

        const off = await api<UserPageJson>("GET", "/users?plan=paging&disabled=true");
        assert.deepEqual(off.body.items.map((u) => u.email), ["Page-2@example.com", "Page-5@example.com"]);
        const admins = await api<UserPageJson>("GET", "/users?role=admin");
        assert.ok(admins.body.items.every((u) => u.role === "admin") && admins.body.total >= 1);

        for (const [query, field] of [["?limit=0", "limit"], ["?limit=201", "limit"], ["?cursor=***", "cursor"], ["?disabled=yes", "disabled"], ["?rol=admin", "rol"]] as const) {
          const refused = await api("GET", `/users${query}`);
          assert.equal(refused.status, 400, query);
          assert.deepEqual(fieldsNamed(refused.body), [field]);
        }
      });

      it("changes plan, role and disabled state; disabling ends the user's sessions and stops their keys", async () => {
        const user = await accounts.createUser({ email: "eve@example.com", password: PASSWORD });
        const { token } = await accounts.sessions.create(user.id);
        const { key } = await accounts.apiKeys.create(user.id, { name: "eve's" });
        assert.equal((await within1s(() => gateway(key), (r) => r.status === 200)).status, 200);

        const moved = await api<UserJson>("PATCH", `/users/${user.id}`, { body: { plan: "premium", role: "admin" } });
        assert.equal(moved.status, 200);
        assert.equal(moved.body.plan, "premium");
        assert.equal(moved.body.role, "admin");
        const unknownPlan = await api("PATCH", `/users/${user.id}`, { body: { plan: "no-such-plan", role: "user" } });
        assert.equal(unknownPlan.status, 400);
        assert.deepEqual(fieldsNamed(unknownPlan.body), ["plan"]);
        assert.equal((await api<UserJson>("GET", `/users/${user.id}`)).body.role, "admin", "a refused patch changes nothing");

        const off = await api<UserJson>("PATCH", `/users/${user.id}`, { body: { disabled: true } });
        assert.equal(off.status, 200);
        assert.notEqual(off.body.disabledAt, null);
        assert.equal(await accounts.sessions.verify(token), undefined, "their sessions ended");
        assert.equal((await within1s(() => gateway(key), (r) => r.status === 401)).status, 401, "their key stopped");
        assert.equal((await api("PATCH", "/users/00000000-0000-4000-8000-000000000000", { body: { disabled: true } })).status, 404);
        assert.deepEqual(fieldsNamed((await api("PATCH", `/users/${user.id}`, { body: { disabled: "yes" } })).body), ["disabled"]);
      });

      it("never demotes or disables the last enabled admin", async () => {
        // Every admin but the root one is demoted first, so the root is the last.
        const others = await api<UserPageJson>("GET", "/users?role=admin&disabled=false&limit=200");
        for (const other of others.body.items.filter((u) => u.id !== rootAdmin.id)) await api("PATCH", `/users/${other.id}`, { body: { role: "user" } });

        for (const body of [{ role: "user" }, { disabled: true }, { role: "user", disabled: true }]) {
          const refused = await api("PATCH", `/users/${rootAdmin.id}`, { body });
          assert.equal(refused.status, 409, JSON.stringify(body));
          assert.equal(refused.body.code, problems.conflict.code);
        }
        const second = await api<UserJson>("POST", "/users", { body: { email: "second-admin@example.com", password: PASSWORD, role: "admin" } });
        assert.equal((await api("PATCH", `/users/${rootAdmin.id}`, { body: { role: "user" } })).status, 200, "not the last one any more");
        assert.equal((await api("PATCH", `/users/${second.body.id}`, { body: { disabled: true } })).status, 409, "now the second is the last");
        assert.equal((await api("PATCH", `/users/${rootAdmin.id}`, { body: { role: "admin" } })).status, 200);
        assert.equal((await api("PATCH", `/users/${second.body.id}`, { body: { disabled: true } })).status, 200);
        assert.equal((await api("GET", "/users", { headers: bySession(adminSession) })).status, 200, "the root admin's session still works");
      });

      it("keeps one admin when the last two are demoted at once", async () => {
        const third = await api<UserJson>("POST", "/users", { body: { email: "third-admin@example.com", password: PASSWORD, role: "admin" } });
        const answers = await Promise.all([rootAdmin.id, third.body.id].map((id) => api("PATCH", `/users/${id}`, { body: { role: "user" } })));
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
        const admins = await api<UserPageJson>("GET", "/users?role=admin&disabled=false");
        assert.equal(admins.body.total, 1);
        await api("PATCH", `/users/${rootAdmin.id}`, { body: { role: "admin" } });
      });
    });

    describe("keys", () => {
      it("makes a key that works at the gateway until it is revoked", async () => {
        const owner = await accounts.createUser({ email: "kim@example.com", password: PASSWORD, plan: "premium" });
        const made = await api<NewKeyJson>("POST", "/keys", { body: { userId: owner.id, name: "laptop" } });
        assert.equal(made.status, 201);
        assert.ok(made.body.key.startsWith(made.body.record.start));
        assert.equal(made.body.record.userId, owner.id);
        assert.equal((await within1s(() => gateway(made.body.key), (r) => r.status === 200)).status, 200);
        const fetched = await api<KeyJson & { key?: string }>("GET", `/keys/${made.body.record.id}`);
        assert.equal(fetched.status, 200);
        assert.equal(fetched.body.key, undefined, "shown once, at creation");

        const revoked = await api<KeyJson>("POST", `/keys/${made.body.record.id}/revoke`);
        assert.equal(revoked.status, 200);
        assert.notEqual(revoked.body.revokedAt, null);
        assert.equal((await within1s(() => gateway(made.body.key), (r) => r.status === 401)).status, 401);

        const live = await api<{ items: KeyJson[] }>("GET", `/keys?userId=${owner.id}`);
        assert.deepEqual(live.body.items, []);
        const all = await api<{ items: KeyJson[] }>("GET", `/keys?userId=${owner.id}&includeRevoked=true`);
        assert.deepEqual(all.body.items.map((k) => k.id), [made.body.record.id]);
        assert.equal((await api("POST", "/keys/00000000-0000-4000-8000-000000000000/revoke")).status, 404);
        assert.equal((await api("GET", "/keys/00000000-0000-4000-8000-000000000000")).status, 404);
      });

      it("rotates a key: both work through the grace period, and a replaced key cannot be rotated again", async () => {
        const owner = await accounts.createUser({ email: "rot@example.com", password: PASSWORD, plan: "premium" });
        const expiresAt = new Date(clock.now + 24 * 3600_000).toISOString();
        const made = await api<NewKeyJson>("POST", "/keys", { body: { userId: owner.id, name: "ci", scopes: ["echo"], expiresAt } });
        assert.equal(made.body.record.expiresAt, expiresAt);
        const rotated = await api<NewKeyJson>("POST", `/keys/${made.body.record.id}/rotate`, { body: { graceSeconds: 60 } });
        assert.equal(rotated.status, 201);
        assert.equal(rotated.body.replaced?.replacedBy, rotated.body.record.id);
        assert.equal(rotated.body.replaced?.expiresAt, new Date(clock.now + 60_000).toISOString());
        assert.equal((await within1s(() => gateway(rotated.body.key), (r) => r.status === 200)).status, 200);
        assert.equal((await within1s(() => gateway(made.body.key), (r) => r.status === 200)).status, 200, "the old key, within its grace");

        const again = await api("POST", `/keys/${made.body.record.id}/rotate`);
        assert.equal(again.status, 409);
        assert.equal(again.body.code, problems.conflict.code);
        const paged = await api<{ items: KeyJson[]; nextOffset?: number }>("GET", `/keys?userId=${owner.id}&limit=1`);
        assert.deepEqual([paged.body.items.length, paged.body.nextOffset], [1, 1]);
        const rest = await api<{ items: KeyJson[]; nextOffset?: number }>("GET", `/keys?userId=${owner.id}&limit=1&offset=1`);
        assert.deepEqual([rest.body.items.length, rest.body.nextOffset], [1, undefined]);
      });

      it("refuses a key for nobody, on an unknown plan, or with a bad expiry, naming the field", async () => {
        for (const [body, field] of [
          [{ userId: "00000000-0000-4000-8000-000000000000", name: "x" }, "userId"],
          [{ userId: rootAdmin.id, name: "x", plan: "no-such-plan" }, "plan"],
          [{ userId: rootAdmin.id, name: "x", expiresAt: "tomorrow" }, "expiresAt"],
          [{ userId: rootAdmin.id, name: "" }, "name"],
        ] as const) {
          const refused = await api("POST", "/keys", { body });
          assert.equal(refused.status, 400, field);
          assert.deepEqual(fieldsNamed(refused.body), [field]);
        }
      });
    });

    describe("plans", () => {
      it("refuses a plan with bad limits, naming every bad field", async () => {
        const refused = await api("PUT", "/plans/gold", { body: { limits: { "gold-rate": { limit: 0, window: "soon" }, "gold-daily": { algorithm: "gcra", window: "1d", size: 3 } } } });
        assert.equal(refused.status, 400);
        assert.equal(refused.body.code, problems.badRequest.code);
        assert.deepEqual(fieldsNamed(refused.body).sort(), ["limits.gold-daily.limit", "limits.gold-daily.size", "limits.gold-rate.limit", "limits.gold-rate.window"]);
        const badName = await api("PUT", "/plans/Gold%20Plan", { body: { limits: {} } });
        assert.deepEqual(fieldsNamed(badName.body), ["name"]);
        assert.equal((await api("GET", "/plans/gold")).status, 404);
      });

      it("creates, replaces, lists and removes a plan, but not one in use", async () => {
        const body = { description: "Silver", limits: { "silver-rate": { algorithm: "gcra", limit: 50, window: "1m" } } };
        assert.equal((await api("PUT", "/plans/silver", { body })).status, 201);
        const replaced = await api<PlanJson>("PUT", "/plans/silver", { body: { ...body, description: "Silver, again" } });
        assert.equal(replaced.status, 200);
        assert.deepEqual(replaced.body.limits, body.limits, "stored as written");
        const listed = await api<{ items: PlanJson[] }>("GET", "/plans");
        assert.ok(["free", "premium", "silver"].every((name) => listed.body.items.some((p) => p.name === name)));

        const user = await api<UserJson>("POST", "/users", { body: { email: "sil@example.com", password: PASSWORD, plan: "silver" } });
        const inUse = await api("DELETE", "/plans/silver");
        assert.equal(inUse.status, 409);
        assert.equal(inUse.body.code, problems.conflict.code);
        await api("PATCH", `/users/${user.body.id}`, { body: { plan: "free" } });
        assert.equal((await api("DELETE", "/plans/silver")).status, 204);
        assert.equal((await api("GET", "/plans/silver")).status, 404);
        assert.equal((await api("DELETE", "/plans/silver")).body.code, problems.notFound.code);
      });

      it("applies a plan's edit to the next gateway request of its users", async () => {
        assert.equal((await api("PUT", "/plans/tiny", { body: { limits: { "tiny-rate": { algorithm: "fixed-window", limit: 1, window: "1h" } } } })).status, 201);
        const user = await api<UserJson>("POST", "/users", { body: { email: "tiny@example.com", password: PASSWORD, plan: "tiny" } });
        const { body: { key } } = await api<NewKeyJson>("POST", "/keys", { body: { userId: user.body.id, name: "one" } });
        const first = await within1s(() => gateway(key), (r) => r.headers.get("ratelimit-policy")?.includes("tiny-rate") === true);
        assert.equal(first.status, 200);
        assert.equal((await within1s(() => gateway(key), () => true)).status, 429, "one an hour");

        assert.equal((await api("PUT", "/plans/tiny", { body: { limits: { "tiny-rate": { algorithm: "fixed-window", limit: 1000, window: "1h" } } } })).status, 200);
        assert.equal((await within1s(() => gateway(key), (r) => r.status === 200)).status, 200);
      });
    });

    describe("service tokens", () => {
      interface TokenJson { readonly id: string; readonly start: string; readonly name: string; readonly rights: string[]; readonly revokedAt: string | null }
      const decide = (token: string) => fetch(`${sluice.url}/v1/ratelimit`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ identifier: "u", limit: 5, duration: "1m" }),
      });

      it("makes a token shown once that the rate-limit service accepts until it is revoked", async () => {
        const made = await api<{ token: string; record: TokenJson }>("POST", "/service-tokens", { body: { name: "billing" } });
        assert.equal(made.status, 201);
        assert.match(made.body.token, /^st_[0-9A-Za-z]{32}$/);
        assert.deepEqual([made.body.record.name, made.body.record.rights, made.body.record.start], ["billing", ["decide"], made.body.token.slice(0, 9)]);
        assert.equal((await within1s(() => decide(made.body.token), (r) => r.status === 200)).status, 200);

        const listed = await api<{ items: TokenJson[] }>("GET", "/service-tokens");
        assert.ok(listed.body.items.some((t) => t.id === made.body.record.id));
        assert.ok(!JSON.stringify(listed.body).includes(made.body.token), "never the token again");
        assert.equal((await api<TokenJson>("GET", `/service-tokens/${made.body.record.id}`)).body.name, "billing");

        const revoked = await api<TokenJson>("POST", `/service-tokens/${made.body.record.id}/revoke`);
        assert.equal(revoked.status, 200);
        assert.notEqual(revoked.body.revokedAt, null);
        assert.equal((await within1s(() => decide(made.body.token), (r) => r.status === 401)).status, 401);
        assert.ok(!(await api<{ items: TokenJson[] }>("GET", "/service-tokens")).body.items.some((t) => t.id === made.body.record.id));
        assert.ok((await api<{ items: TokenJson[] }>("GET", "/service-tokens?includeRevoked=true")).body.items.some((t) => t.id === made.body.record.id));
      });

      it("keeps a token's scope, each list empty unless given, and null (every namespace and policy) when none is given", async () => {
        const scoped = await api<{ record: TokenJson & { scope: unknown } }>("POST", "/service-tokens", { body: { name: "billing", scope: { namespaces: ["billing", "billing"] } } });
        assert.equal(scoped.status, 201);
        assert.deepEqual(scoped.body.record.scope, { namespaces: ["billing"], policies: [] });
        assert.deepEqual((await api<TokenJson & { scope: unknown }>("GET", `/service-tokens/${scoped.body.record.id}`)).body.scope, { namespaces: ["billing"], policies: [] });
        const unscoped = await api<{ record: TokenJson & { scope: unknown } }>("POST", "/service-tokens", { body: { name: "legacy" } });
        assert.equal(unscoped.body.record.scope, null);
      });

      it("refuses a token without a name or with an unknown right, and answers 404 for one that does not exist", async () => {
        assert.deepEqual(fieldsNamed((await api("POST", "/service-tokens", { body: { name: "" } })).body), ["name"]);
        assert.deepEqual(fieldsNamed((await api("POST", "/service-tokens", { body: { name: "x", rights: ["admin"] } })).body), ["rights.0"]);
        assert.deepEqual(fieldsNamed((await api("POST", "/service-tokens", { body: { name: "x", scope: { namespaces: ["Not A Name"] } } })).body), ["scope.namespaces.0"]);
        assert.deepEqual(fieldsNamed((await api("POST", "/service-tokens", { body: { name: "x", scope: { tenants: [] } } })).body), ["scope.tenants"]);
        assert.equal((await api("GET", "/service-tokens/00000000-0000-4000-8000-000000000000")).status, 404);
        assert.equal((await api("POST", "/service-tokens/not-a-uuid/revoke")).status, 404);
        assert.equal((await api("GET", "/service-tokens", { headers: bySession(userSession) })).status, 403, "admins only");
      });
    });

    describe("the OpenAPI fragment", () => {
      it("documents exactly the endpoints that are served, each with its security and problems", async () => {
        assert.deepEqual(Object.keys(ADMIN_SECURITY_SCHEMES).sort(), ["adminToken", "session"]);
        let operations = 0;
        for (const [path, item] of Object.entries(ADMIN_OPENAPI_PATHS)) {
          for (const [method, operation] of Object.entries(item)) {
            operations++;
            assert.deepEqual(operation.security, [{ adminToken: [] }, { session: [] }]);
            assert.match(JSON.stringify(operation.responses["401"]), /#\/components\/schemas\/Problem/);
            // Served routes check the caller first (401); a path that is not served is a 404.
            const url = path.replace(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000");
            const answer = await fetch(sluice.url + url, { method: method.toUpperCase() });
            await answer.body?.cancel();
            assert.equal(answer.status, 401, `${method} ${path}`);
          }
        }
        assert.equal(operations, 17);
      });

      it("is part of /openapi.json, schemes and tags included", async () => {
        const document = (await (await fetch(`${sluice.url}/openapi.json`)).json()) as { paths: Record<string, unknown>; tags: { name: string }[]; components: { securitySchemes: Record<string, unknown> } };
        for (const path of Object.keys(ADMIN_OPENAPI_PATHS)) assert.ok(document.paths[path], path);
        assert.deepEqual(Object.keys(document.components.securitySchemes).sort(), ["adminToken", "apiKey", "serviceToken", "session"]);
        assert.ok(document.tags.some((tag) => tag.name === "admin: plans"));
      });
    });
  });
}
