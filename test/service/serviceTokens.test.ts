// Service tokens on each database engine: made once and shown once, kept only as a hash, listed
// without secrets, revoked idempotently; each instance's verifier knows a token as soon as it is
// made and forgets it as soon as it is revoked (on PostgreSQL, across instances, by NOTIFY), and an
// expired token stops verifying at its expiry without any notice.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as setImmediatePromise } from "node:timers/promises";
import { sha256Hex } from "../../src/config/apiKeyDigest.js";
import { SERVICE_TOKEN_PATTERN, generateServiceToken, serviceTokenRepository } from "../../src/service/serviceTokens.js";
import { serviceTokenVerifier } from "../../src/service/serviceTokenVerifier.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { ManualClock } from "../support/manualClock.js";
import { pollUntil } from "../support/poll.js";

/** `read` once the event loop has turned (a notice can only arrive then), for pollUntil. */
const afterIo = <T>(read: () => T) => async (): Promise<T> => {
  await setImmediatePromise();
  return read();
};

it("makes tokens of 32 random base62 characters under st_", () => {
  const tokens = new Set(Array.from({ length: 50 }, generateServiceToken));
  assert.equal(tokens.size, 50);
  for (const token of tokens) assert.match(token, SERVICE_TOKEN_PATTERN);
});

for (const engine of TEST_ENGINES) {
  describe(`service tokens on the ${engine.name} database`, () => {
    it("keeps only the hash, lists records without secrets, and revokes once", async () => {
      const clock = new ManualClock();
      const db = await openTestDatabase(await engine.fresh());
      const tokens = serviceTokenRepository(db, { now: clock.read });
      const { token, record } = await tokens.create({ name: "billing", rights: ["decide", "decide", "reset"] });
      assert.match(token, SERVICE_TOKEN_PATTERN);
      assert.deepEqual(record.rights, ["decide", "reset"], "each right once");
      assert.equal(record.start, token.slice(0, 9));
      const [row] = await db.query<Record<string, unknown>>("select * from service_tokens");
      assert.equal(row!["token_hash"], sha256Hex(token));
      assert.ok(!JSON.stringify(row).includes(token), "the token itself is nowhere in the table");
      assert.ok(!JSON.stringify(await tokens.list()).includes(sha256Hex(token)), "nor its hash in a list");

      clock.advance(1000);
      const revoked = await tokens.revoke(record.id);
      assert.equal(revoked?.revokedAt?.getTime(), clock.now);
      clock.advance(1000);
      assert.equal((await tokens.revoke(record.id))?.revokedAt?.getTime(), clock.now - 1000, "revoking again keeps the first time");
      assert.deepEqual(await tokens.list(), []);
      assert.deepEqual((await tokens.list({ includeRevoked: true })).map((t) => t.id), [record.id]);
      assert.equal(await tokens.revoke("not-a-uuid"), undefined);
      assert.equal(await tokens.get("00000000-0000-0000-0000-000000000000"), undefined);
    });

    it("verifies a live token from memory, and stops at revocation and at expiry", async () => {
      const clock = new ManualClock();
      const db = await openTestDatabase(await engine.fresh());
      const tokens = serviceTokenRepository(db, { now: clock.read });
      const verifier = await serviceTokenVerifier(tokens, db, { now: clock.read });
      try {
        const kept = await tokens.create({ name: "kept", rights: ["decide"] });
        const expiring = await tokens.create({ name: "expiring", rights: ["decide"], expiresAt: new Date(clock.now + 60_000) });
        const revoked = await tokens.create({ name: "revoked", rights: ["reset"] });
        const known = await pollUntil(afterIo(() => [kept, expiring, revoked].map((t) => verifier.verify(t.token)?.id)), (ids) => ids.every((id) => id !== undefined));
        assert.deepEqual(known, [kept.record.id, expiring.record.id, revoked.record.id], "a new token is known once its notice arrives");
        assert.deepEqual(verifier.verify(revoked.token)?.rights, ["reset"]);

        await tokens.revoke(revoked.record.id);
        assert.equal(await pollUntil(afterIo(() => verifier.verify(revoked.token)), (v) => v === undefined), undefined);
        clock.advance(60_000);
        assert.equal(verifier.verify(expiring.token), undefined, "expired: no notice needed");
        assert.equal(verifier.verify(kept.token)?.id, kept.record.id);
        assert.equal(verifier.verify(`st_${"A".repeat(32)}`), undefined);
        assert.equal(verifier.verify(kept.token + "x"), undefined);
      } finally {
        await verifier.close();
      }
    });

    it("keeps a token's scope (each name once), null for a token made without one, and hands it to the verifier", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const tokens = serviceTokenRepository(db);
      const verifier = await serviceTokenVerifier(tokens, db);
      try {
        const scoped = await tokens.create({ name: "billing", rights: ["decide"], scope: { namespaces: ["billing", "billing", "invoices"], policies: [] } });
        const unscoped = await tokens.create({ name: "legacy", rights: ["decide"] });
        assert.deepEqual(scoped.record.scope, { namespaces: ["billing", "invoices"], policies: [] });
        assert.equal(unscoped.record.scope, null);
        assert.deepEqual((await tokens.get(scoped.record.id))?.scope, scoped.record.scope);
        const verified = await pollUntil(afterIo(() => [verifier.verify(scoped.token), verifier.verify(unscoped.token)]), (v) => v.every((t) => t !== undefined));
        assert.deepEqual(verified.map((t) => t?.scope), [{ namespaces: ["billing", "invoices"], policies: [] }, null]);
        await assert.rejects(db.query("update service_tokens set policies = null where id = $1", [scoped.record.id]), "a scope is both lists or neither");
      } finally {
        await verifier.close();
      }
    });

    if (engine.name === "postgres") {
      it("forgets a token on every instance sharing the database when one revokes it", async () => {
        const location = await engine.fresh();
        const [one, two] = [await openTestDatabase(location), await openTestDatabase(location)];
        const verifiers = [await serviceTokenVerifier(serviceTokenRepository(one), one), await serviceTokenVerifier(serviceTokenRepository(two), two)];
        try {
          const { token, record } = await serviceTokenRepository(one).create({ name: "shared", rights: ["decide"] });
          assert.ok(await pollUntil(afterIo(() => verifiers.every((v) => v.verify(token) !== undefined)), (ok) => ok));
          await serviceTokenRepository(one).revoke(record.id);
          assert.ok(await pollUntil(afterIo(() => verifiers.every((v) => v.verify(token) === undefined)), (gone) => gone));
        } finally {
          await Promise.all(verifiers.map((v) => v.close()));
        }
      });
    }
  });
}
