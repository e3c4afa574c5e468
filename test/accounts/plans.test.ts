// Plans, on each database engine: a new database comes with `free` and `premium`, whose limits
// are written as in the config file and compile with the config's own schema. Admins create and
// change plans; the limits come back exactly as written (durations as strings), and a limit the
// config file would refuse is refused here too, naming the field. A plan that users or API keys
// are on cannot be removed; re-running the seed never overwrites an operator's change.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import { DUMMY_HASH } from "../../src/accounts/passwords.js";
import { InvalidPlan, PlanInUse, planLimitConfigs, PLANS_CHANNEL, PlanRepository, type PlanDefinition } from "../../src/accounts/plans.js";
import { UserRepository } from "../../src/accounts/users.js";
import { limitSchema } from "../../src/config/schema.js";
import type { Database } from "../../src/db/database.js";
import { MIGRATIONS } from "../../src/db/migrations.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";

const GOLD: PlanDefinition = {
  description: "Gold: 50 per 45 s, bursts of 10",
  limits: {
    "gold-rate": { algorithm: "gcra", limit: 50, window: "45s", burst: 10, by: ["consumer", "service"] },
    "gold-uploads": { algorithm: "token-bucket", limit: 5, window: "1m", capacity: 20, by: ["consumer", "header:x-upload-kind"], shadow: true },
  },
};

/** The issues of the InvalidPlan that `definition` is refused with, as "path: message". */
async function refusal(plans: PlanRepository, name: string, definition: unknown): Promise<string[]> {
  try {
    await plans.set(name, definition as PlanDefinition);
  } catch (error) {
    assert.ok(error instanceof InvalidPlan, String(error));
    assert.equal(error.code, "SLUICE_ERR_INVALID_PLAN");
    return error.issues.map((i) => i.name);
  }
  assert.fail(`plan ${name} was accepted`);
}

for (const engine of TEST_ENGINES) {
  describe(`PlanRepository on the ${engine.name} engine`, () => {
    let db: Database;
    let plans: PlanRepository;
    before(async () => {
      db = await openTestDatabase(await engine.fresh());
      plans = new PlanRepository(db);
    });

    it("starts with the free and premium plans, written as the config file writes limits", async () => {
      const free = await plans.get("free");
      assert.equal(free?.description, "Free: 5 requests per 30 s");
      assert.deepEqual(free.limits, { "free-rate": { algorithm: "sliding-window-log", limit: 5, window: "30s", by: ["consumer"] } });
      const premium = await plans.get("premium");
      assert.deepEqual(premium?.limits, {
        "premium-rate": { algorithm: "gcra", limit: 100, window: "1m", by: ["consumer"] },
        "premium-daily": { algorithm: "fixed-window", limit: 10000, window: "1d", align: "clock", by: ["consumer"] },
      });
      assert.ok(premium.createdAt instanceof Date && premium.updatedAt instanceof Date);
    });

    it("compiles a plan's limits with the config schema, as config limits are", async () => {
      const free = planLimitConfigs((await plans.get("free"))!);
      assert.deepEqual(free, { "free-rate": limitSchema.parse({ algorithm: "sliding-window-log", limit: 5, window: "30s", by: ["consumer"] }) });
      assert.equal(free["free-rate"]?.window, 30_000);
      assert.equal(free["free-rate"]?.onStoreFailure, "open");
      const premium = planLimitConfigs((await plans.get("premium"))!);
      assert.equal(premium["premium-daily"]?.window, 86_400_000);
      assert.equal(premium["premium-daily"]?.align, "clock");
    });

    it("creates a plan whose limits come back exactly as written", async () => {
      const created = await plans.set("gold", GOLD);
      assert.equal(created.name, "gold");
      assert.equal(created.description, GOLD.description);
      assert.deepEqual(created.limits, GOLD.limits);
      assert.deepEqual((await plans.get("gold"))?.limits, GOLD.limits);
      const [raw] = await db.query<{ window: string }>("select limits -> 'gold-rate' ->> 'window' as window from plans where name = 'gold'");
      assert.equal(raw?.window, "45s");
    });

    it("replaces a plan's description and limits when set again", async () => {
      const first = await plans.set("silver", { description: "Silver", limits: { "silver-rate": { limit: 10, window: "10s" } } });
      const second = await plans.set("silver", { limits: { "silver-minute": { algorithm: "fixed-window", limit: 30, window: "1m" } } });
      assert.equal(second.description, "");
      assert.deepEqual(second.limits, { "silver-minute": { algorithm: "fixed-window", limit: 30, window: "1m" } });
      assert.deepEqual(second.createdAt, first.createdAt);
      assert.ok(second.updatedAt >= first.updatedAt);
      assert.equal((await plans.list()).filter((p) => p.name === "silver").length, 1);
    });

    it("lists every plan by name", async () => {
      await plans.set("bronze", { limits: {} });
      const names = (await plans.list()).map((p) => p.name);
      assert.deepEqual(names, [...names].sort());
      for (const name of ["bronze", "free", "premium"]) assert.ok(names.includes(name), name);
    });

    it("refuses what the config file would refuse, naming each field", async () => {
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { algorithm: "gcra", limit: 5, window: "30 seconds" } } }), ["limits.r.window"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { algorithm: "gcra", limit: 5 } } }), ["limits.r.window"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { algorithm: "fixed-window", limit: 5, window: "1m", burst: 3 } } }), ["limits.r.burst"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { algorithm: "token-bucket", limit: 5, window: "1m" } } }), ["limits.r.capacity"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { limit: 0, window: "1m", by: ["nobody"] } } }), ["limits.r.limit", "limits.r.by.0"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { r: { limit: 1, window: "1m", colour: "red" } } }), ["limits.r.colour"]);
      assert.deepEqual(await refusal(plans, "bad", { limits: { "Not A Name": { limit: 1, window: "1m" } } }), ["limits.Not A Name"]);
      assert.deepEqual(await refusal(plans, "Bad Plan", { limits: {} }), ["name"]);
      assert.deepEqual(await refusal(plans, "bad", { description: 42, limits: {}, extra: true }), ["description", "extra"]);
      assert.equal(await plans.get("bad"), undefined);
    });

    it("says which field is wrong in the error's message", async () => {
      await assert.rejects(
        plans.set("bad", { limits: { "bad-rate": { algorithm: "gcra", limit: 5, window: "soon" } } }),
        /invalid plan: limits\.bad-rate\.window: write a positive duration/,
      );
    });

    it("removes a plan nobody is on, and answers false for one that does not exist", async () => {
      await plans.set("ephemeral", { limits: {} });
      assert.equal(await plans.remove("ephemeral"), true);
      assert.equal(await plans.get("ephemeral"), undefined);
      assert.equal(await plans.remove("ephemeral"), false);
    });

    it("refuses to remove a plan that users or API keys are on", async () => {
      await plans.set("busy", { limits: {} });
      const users = new UserRepository(db);
      const user = await users.create({ email: "busy@example.com", passwordHash: DUMMY_HASH, role: "user", plan: "busy" });
      await assert.rejects(plans.remove("busy"), (error: unknown) =>
        error instanceof PlanInUse && error.code === "SLUICE_ERR_PLAN_IN_USE" && error.users === 1 && error.apiKeys === 0);
      await users.setPlan(user.id, "free");
      await db.query("insert into api_keys (id, key_hash, start, name, user_id, plan) values ($1, $2, 'sk_test', 'ci', $3, 'busy')", [randomUUID(), "0".repeat(64), user.id]);
      await assert.rejects(plans.remove("busy"), (error: unknown) => error instanceof PlanInUse && error.users === 0 && error.apiKeys === 1);
      assert.ok(await plans.get("busy"));
    });

    it("tells every instance when a plan is set or removed", async () => {
      const heard: string[] = [];
      const stop = await db.listen(PLANS_CHANNEL, (payload) => heard.push(payload));
      await plans.set("announced", { limits: {} });
      await plans.remove("announced");
      await plans.remove("announced"); // already gone: nothing to announce
      while (heard.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stop();
      assert.deepEqual(heard, ["announced", "announced"]);
    });

    it("never overwrites a plan when the seed runs again", async () => {
      await plans.set("free", { description: "Free, as the operator wants it", limits: { "free-rate": { algorithm: "gcra", limit: 7, window: "1m" } } });
      await db.exec(MIGRATIONS.find((m) => m.id === 2)!.sql);
      const free = await plans.get("free");
      assert.equal(free?.description, "Free, as the operator wants it");
      assert.deepEqual(free.limits, { "free-rate": { algorithm: "gcra", limit: 7, window: "1m" } });
    });
  });
}
