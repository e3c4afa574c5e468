// The usage table as the recorder writes it and the usage pages read it, on both engines: an
// upsert that adds to what is stored (two instances, or two flushes in one minute, sum), series
// per minute and per hour with every empty step present as zeros, only the asked subjects and
// range counted, and retention by age.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { HOUR_MS, MINUTE_MS, usageRepository, type UsageRepository } from "../../src/usage/usageRepository.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
const at = (ms: number) => new Date(ms);

for (const engine of TEST_ENGINES) {
  describe(`usage rows (${engine.name})`, () => {
    let usage: UsageRepository;
    before(async () => {
      usage = usageRepository(await openTestDatabase(await engine.fresh()));
    });

    it("adds counts to the stored ones, and reads them back per minute with the gaps as zeros", async () => {
      await usage.add([
        { subject: "key:a", minute: at(T0), allowed: 3, limited: 1 },
        { subject: "key:a", minute: at(T0 + 2 * MINUTE_MS), allowed: 1, limited: 0 },
        { subject: "key:b", minute: at(T0), allowed: 7, limited: 0 },
      ]);
      await usage.add([{ subject: "key:a", minute: at(T0), allowed: 2, limited: 4 }]);

      const points = await usage.series(["key:a"], { from: T0, to: T0 + 4 * MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(points, [
        { at: T0, allowed: 5, limited: 5 },
        { at: T0 + MINUTE_MS, allowed: 0, limited: 0 },
        { at: T0 + 2 * MINUTE_MS, allowed: 1, limited: 0 },
        { at: T0 + 3 * MINUTE_MS, allowed: 0, limited: 0 },
      ]);
      const both = await usage.series(["key:a", "key:b"], { from: T0, to: T0 + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(both, [{ at: T0, allowed: 12, limited: 5 }]);
      assert.deepEqual(await usage.series([], { from: T0, to: T0 + MINUTE_MS, stepMs: MINUTE_MS }), [{ at: T0, allowed: 0, limited: 0 }]);
    });

    it("sums minutes into hours, counting only minutes inside the range", async () => {
      const from = T0 + 10 * HOUR_MS;
      await usage.add([
        { subject: "user:u", minute: at(from - MINUTE_MS), allowed: 100, limited: 100 },
        { subject: "user:u", minute: at(from), allowed: 1, limited: 0 },
        { subject: "user:u", minute: at(from + 59 * MINUTE_MS), allowed: 2, limited: 3 },
        { subject: "user:u", minute: at(from + HOUR_MS + 5 * MINUTE_MS), allowed: 4, limited: 0 },
        { subject: "user:u", minute: at(from + 2 * HOUR_MS), allowed: 100, limited: 100 },
      ]);
      const hours = await usage.series(["user:u"], { from, to: from + 2 * HOUR_MS, stepMs: HOUR_MS });
      assert.deepEqual(hours, [
        { at: from, allowed: 3, limited: 3 },
        { at: from + HOUR_MS, allowed: 4, limited: 0 },
      ]);
    });

    it("writes many rows in one statement", async () => {
      const rows = Array.from({ length: 500 }, (_, i) => ({ subject: `key:many-${i}`, minute: at(T0 + 20 * HOUR_MS), allowed: i, limited: 1 }));
      await usage.add(rows);
      const subjects = rows.map((r) => r.subject);
      const [point] = await usage.series(subjects, { from: T0 + 20 * HOUR_MS, to: T0 + 20 * HOUR_MS + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(point, { at: T0 + 20 * HOUR_MS, allowed: (499 * 500) / 2, limited: 500 });
    });

    it("deletes the minutes older than the retention boundary, and only those", async () => {
      const old = T0 - 30 * 24 * HOUR_MS;
      await usage.add([{ subject: "key:old", minute: at(old), allowed: 1, limited: 0 }, { subject: "key:old", minute: at(T0), allowed: 1, limited: 0 }]);
      const deleted = await usage.deleteBefore(at(T0 - 8 * 24 * HOUR_MS));
      assert.equal(deleted, 1);
      const [gone] = await usage.series(["key:old"], { from: old, to: old + MINUTE_MS, stepMs: MINUTE_MS });
      assert.equal(gone?.allowed, 0);
      const [kept] = await usage.series(["key:old"], { from: T0, to: T0 + MINUTE_MS, stepMs: MINUTE_MS });
      assert.equal(kept?.allowed, 1);
    });
  });
}
