// Usage survives a graceful shutdown: calls counted in memory by a running Sluice, never flushed
// by a timer or a read, are in the database once `close()` has returned — Sluice stops taking
// requests, writes the last counts, and only then may the database close.
import assert from "node:assert/strict";
import { it } from "node:test";
import { usageRepository } from "../../src/usage/usageRepository.js";
import { startAccountsSluice } from "../support/accountsSluice.js";

it("writes the counts still in memory when Sluice shuts down", async () => {
  const running = await startAccountsSluice((upstream) => `
limits:
  two: { algorithm: fixed-window, limit: 2, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", limits: [two], openapi: false }
`);
  const { accounts, sluice, db, clock } = running;
  try {
    const user = await accounts.createUser({ email: "leaving@example.com", password: "correct horse battery" });
    const { key, record } = await accounts.apiKeys.create(user.id, { name: "last calls" });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await sluice.call("/api/echo/x", { key });
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    const minute = clock.now - (clock.now % 60_000);
    const stored = () => usageRepository(db).series([`key:${record.id}`], { from: minute, to: minute + 60_000, stepMs: 60_000 });
    assert.deepEqual(await stored(), [{ at: minute, allowed: 0, limited: 0 }], "nothing written yet: the counts are in memory");

    await sluice.close();
    assert.deepEqual(await stored(), [{ at: minute, allowed: 2, limited: 1 }]);
  } finally {
    await accounts.close();
    await db.close();
    await running.upstream.close();
  }
});
