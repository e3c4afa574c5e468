// A signed-in user reads their own usage over HTTP, as the dashboard's usage page does: for one of
// their keys, the calls the gateway allowed and limited this minute and this hour (written by the
// recorder when the page reads, so no waiting), 60 minutes and 168 hours of bars, and every limit
// that applies with what is left of it — read without spending any. Their session's calls (the
// playground) are apart from their keys', and all of it together is summed for the page's default
// view. Another user's key answers 404; nobody signed in, 401.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Accounts } from "../../src/accounts/accounts.js";
import type { ApiKeyView } from "../../src/control/accountRoutes.js";
import { USAGE_HOURS, USAGE_MINUTES, USAGE_OPENAPI } from "../../src/control/usageRoutes.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { ManualClock } from "../support/manualClock.js";
import { signedIn as signedInAs } from "../support/signedIn.js";
import { TestBrowser } from "../support/testBrowser.js";
import type { TestSluice } from "../support/testSluice.js";

interface Point { at: string; allowed: number; limited: number }
interface LimitView { counter: string; name: string; source: string; services: string[]; limit: number; remaining: number; resetAt: string }
interface Usage { subject: { kind: string; id?: string; name?: string }; minutes: Point[]; hours: Point[]; limits: LimitView[] }

const clock = new ManualClock(Date.UTC(2026, 10, 24, 8, 30, 15));

let running: AccountsSluice;
let accounts: Accounts;
let sluice: TestSluice;

before(async () => {
  running = await startAccountsSluice((upstream) => `
limits:
  roomy: { algorithm: fixed-window, limit: 1000, window: 1m, by: [consumer] }
  per-address: { algorithm: fixed-window, limit: 1000, window: 1m, by: [ip] }
services:
  echo: { upstream: "${upstream}", limits: [roomy, per-address], openapi: false }
  other: { upstream: "${upstream}", limits: [roomy], openapi: false }
  open: { upstream: "${upstream}", openapi: false }
`, { clock });
  ({ accounts, sluice } = running);
  await accounts.plans.set("unlimited", { limits: {} });
  await accounts.plans.set("tiny", { limits: { "tiny-rate": { algorithm: "fixed-window", limit: 3, window: "1m", by: ["consumer"] } } });
});
after(() => running.close());

/** A new person on the tiny plan, signed in in their own browser. */
const signedIn = () => signedInAs(running, { plan: "tiny", emailPrefix: "usage" });

async function statusOf(response: Promise<Response>): Promise<number> {
  const answer = await response;
  await answer.body?.cancel();
  return answer.status;
}

const last = (points: readonly Point[]) => points[points.length - 1]!;

describe("a user's usage", () => {
  it("counts a key's allowed and limited calls in this minute and hour, and shows its limits as they stand", async () => {
    const browser = await signedIn();
    const created = await browser.post("/account/api/keys", { name: "laptop" });
    const { key, record } = created.json as { key: string; record: ApiKeyView };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await statusOf(sluice.call("/api/echo/x", { key })));
    assert.deepEqual(statuses, [200, 200, 200, 429]);

    const response = await browser.get(`/account/api/usage/keys/${record.id}`);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const usage = response.json as Usage;
    assert.deepEqual(usage.subject, { kind: "key", id: record.id, name: "laptop", start: record.start });
    assert.equal(usage.minutes.length, USAGE_MINUTES);
    assert.equal(usage.hours.length, USAGE_HOURS);
    assert.deepEqual(last(usage.minutes), { at: "2026-11-24T08:30:00.000Z", allowed: 3, limited: 1 });
    assert.deepEqual(last(usage.hours), { at: "2026-11-24T08:00:00.000Z", allowed: 3, limited: 1 });
    assert.equal(usage.minutes[0]!.at, "2026-11-24T07:31:00.000Z");
    assert.equal(usage.minutes.reduce((sum, p) => sum + p.allowed + p.limited, 0), 4);

    // Each counter once, naming the services that share it; the per-address one is the caller's, not the key's.
    const byName = new Map(usage.limits.map((l) => [l.name, l]));
    assert.deepEqual([...byName.keys()].sort(), ["roomy", "tiny-rate"]);
    assert.deepEqual(byName.get("roomy")?.services, ["echo", "other"]);
    assert.equal(byName.get("roomy")?.remaining, 997);
    assert.equal(byName.get("roomy")?.source, "config");
    assert.equal(byName.get("tiny-rate")?.remaining, 0);
    assert.equal(byName.get("tiny-rate")?.source, "plan");
    assert.equal(byName.get("tiny-rate")?.resetAt, "2026-11-24T08:31:15.000Z");

    // Reading spends nothing.
    const again = (await browser.get(`/account/api/usage/keys/${record.id}`)).json as Usage;
    assert.equal(again.limits.find((l) => l.name === "roomy")?.remaining, 997);
    assert.deepEqual(last(again.minutes), last(usage.minutes));

    // The next minute has its own bar; the hour sums both.
    clock.advance(60_000);
    assert.equal(await statusOf(sluice.call("/api/other/x", { key })), 200);
    const later = (await browser.get(`/account/api/usage/keys/${record.id}`)).json as Usage;
    assert.deepEqual(later.minutes.slice(-2).map((p) => [p.allowed, p.limited]), [[3, 1], [1, 0]]);
    assert.deepEqual(last(later.hours), { at: "2026-11-24T08:00:00.000Z", allowed: 4, limited: 1 });
  });

  it("counts calls that no limit applies to as allowed", async () => {
    const browser = await signedIn();
    const user = (await browser.get("/auth/me")).json as { user: { id: string } };
    await accounts.users.setPlan(user.user.id, "unlimited");
    const { key, record } = (await browser.post("/account/api/keys", { name: "open" })).json as { key: string; record: ApiKeyView };
    assert.equal(await statusOf(sluice.call("/api/open/x", { key })), 200);
    assert.equal(await statusOf(sluice.call("/api/open/x", { key })), 200);
    const usage = (await browser.get(`/account/api/usage/keys/${record.id}`)).json as Usage;
    assert.deepEqual([last(usage.minutes).allowed, last(usage.minutes).limited], [2, 0]);
  });

  it("keeps a key's limits to the services its scopes allow", async () => {
    const browser = await signedIn();
    const { record } = (await browser.post("/account/api/keys", { name: "scoped", scopes: ["other"] })).json as { record: ApiKeyView };
    const usage = (await browser.get(`/account/api/usage/keys/${record.id}`)).json as Usage;
    assert.deepEqual(usage.limits.find((l) => l.name === "roomy")?.services, ["other"]);
  });

  it("files the session's calls (the playground) apart from the keys'", async () => {
    const browser = await signedIn();
    const response = await fetch(`${sluice.url}/api/echo/x`, { headers: { cookie: browser.cookie! } });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    const usage = (await browser.get("/account/api/usage/session")).json as Usage;
    assert.deepEqual(usage.subject, { kind: "session" });
    assert.deepEqual([last(usage.minutes).allowed, last(usage.minutes).limited], [1, 0]);
    assert.equal(usage.limits.find((l) => l.name === "tiny-rate")?.remaining, 2);
  });

  it("sums all of the user's calls, every key's (revoked ones too) and the session's, under their plan's limits", async () => {
    const browser = await signedIn();
    const one = (await browser.post("/account/api/keys", { name: "one" })).json as { key: string; record: ApiKeyView };
    const two = (await browser.post("/account/api/keys", { name: "two" })).json as { key: string; record: ApiKeyView };
    assert.equal(await statusOf(sluice.call("/api/echo/x", { key: one.key })), 200);
    assert.equal(await statusOf(sluice.call("/api/echo/x", { key: two.key })), 200);
    assert.equal((await browser.delete(`/account/api/keys/${two.record.id}`)).status, 204);
    assert.equal(await statusOf(fetch(`${sluice.url}/api/echo/x`, { headers: { cookie: browser.cookie! } })), 200);
    assert.equal(await statusOf(fetch(`${sluice.url}/api/echo/x`, { headers: { cookie: browser.cookie! } })), 429, "the plan's 3 per minute, shared");

    const usage = (await browser.get("/account/api/usage")).json as Usage;
    assert.deepEqual(usage.subject, { kind: "all" });
    assert.deepEqual([last(usage.minutes).allowed, last(usage.minutes).limited], [3, 1]);
    assert.equal(usage.limits.find((l) => l.name === "tiny-rate")?.remaining, 0);
    // Another user's calls are not in it.
    const other = await signedIn();
    assert.equal(last(((await other.get("/account/api/usage")).json as Usage).minutes).allowed, 0);
    assert.equal((await new TestBrowser(sluice.url).get("/account/api/usage")).status, 401);
  });

  it("shows nobody another user's key, and nothing to nobody", async () => {
    const owner = await signedIn();
    const { record } = (await owner.post("/account/api/keys", { name: "mine" })).json as { record: ApiKeyView };
    const stranger = await signedIn();
    const refused = await stranger.get(`/account/api/usage/keys/${record.id}`);
    assert.equal(refused.status, 404);
    assert.equal((refused.json as { code: string }).code, "SLUICE_ERR_NOT_FOUND");
    assert.equal((await stranger.get("/account/api/usage/keys/not-a-uuid")).status, 404);
    assert.equal((await new TestBrowser(sluice.url).get(`/account/api/usage/keys/${record.id}`)).status, 401);
    assert.equal((await new TestBrowser(sluice.url).get("/account/api/usage/session")).status, 401);
  });

  it("is in the OpenAPI document", async () => {
    const document = (await (await fetch(`${sluice.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of Object.keys(USAGE_OPENAPI.paths)) assert.ok(path in document.paths, path);
  });
});
