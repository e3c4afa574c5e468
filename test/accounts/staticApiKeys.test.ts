// API keys from the config file: the right key names its consumer (and plan); every other key —
// wrong, missing, empty, or the stored digest itself — names nobody. Keys may be configured in
// plaintext or as "sha256:<hex>", and both forms verify the same plaintext key.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { apiKeyDigest, HASHED_KEY_PREFIX, sha256Hex } from "../../src/config/apiKeyDigest.js";
import { hasPlaintextKeys, staticApiKeys } from "../../src/accounts/staticApiKeys.js";

/** SHA-256 computed independently of the module under test. */
const digestOf = (key: string) => createHash("sha256").update(key).digest("hex");

describe("apiKeyDigest", () => {
  it("hashes a plaintext key to its lower-case hex SHA-256", () => {
    assert.equal(sha256Hex("secret-key"), digestOf("secret-key"));
    assert.equal(apiKeyDigest("secret-key"), digestOf("secret-key"));
    assert.match(apiKeyDigest("secret-key"), /^[0-9a-f]{64}$/);
  });

  it('takes a "sha256:<hex>" key as the digest it already is', () => {
    assert.equal(HASHED_KEY_PREFIX, "sha256:");
    assert.equal(apiKeyDigest(`sha256:${digestOf("secret-key")}`), digestOf("secret-key"));
  });

  it("gives different keys different digests", () => {
    assert.notEqual(apiKeyDigest("secret-key"), apiKeyDigest("secret-kez"));
  });
});

describe("staticApiKeys", () => {
  const verifier = staticApiKeys({
    alice: { keys: ["alice-key-0001", "alice-key-0002"] },
    bob: { keys: [`sha256:${digestOf("bob-secret-key")}`], plan: "gold" },
  });

  it("answers the consumer for each of its plaintext-configured keys", () => {
    assert.deepEqual(verifier.verify("alice-key-0001"), { id: "alice" });
    assert.deepEqual(verifier.verify("alice-key-0002"), { id: "alice" });
  });

  it("knows its keys from memory alone, as it verifies them (they pass even from a throttled address)", () => {
    assert.deepEqual(verifier.known("alice-key-0001"), { id: "alice" });
    assert.deepEqual(verifier.known("bob-secret-key"), { id: "bob", plan: "gold" });
    assert.equal(verifier.known("mallory-guess"), undefined);
  });

  it("answers the consumer, with its plan, for a key configured as a digest", () => {
    assert.deepEqual(verifier.verify("bob-secret-key"), { id: "bob", plan: "gold" });
  });

  it("gives a consumer without a plan no plan property at all", () => {
    const consumer = verifier.verify("alice-key-0001");
    assert.ok(consumer !== undefined && !Object.hasOwn(consumer, "plan"));
  });

  it("hands out the same frozen identity for every key of a consumer", () => {
    const first = verifier.verify("alice-key-0001");
    assert.equal(first, verifier.verify("alice-key-0002"));
    assert.ok(Object.isFrozen(first));
  });

  const refused: readonly (readonly [story: string, key: string])[] = [
    ["a wrong key", "alice-key-0003"],
    ["a key that differs only in case", "ALICE-KEY-0001"],
    ["a key with surrounding whitespace", " alice-key-0001 "],
    ["a prefix of a valid key", "alice-key-000"],
    ["an empty key", ""],
    ["the configured digest presented as if it were the key", `sha256:${digestOf("bob-secret-key")}`],
    ["the bare hex digest presented as the key", digestOf("bob-secret-key")],
    ["a consumer's name", "alice"],
  ];
  for (const [story, key] of refused) {
    it(`answers no consumer for ${story}`, () => {
      assert.equal(verifier.verify(key), undefined);
    });
  }

  it("answers no consumer for any key when no consumers are configured", () => {
    assert.equal(staticApiKeys({}).verify("alice-key-0001"), undefined);
  });
});

describe("hasPlaintextKeys", () => {
  it("is true when any consumer has a key written in plaintext", () => {
    assert.equal(hasPlaintextKeys({ a: { keys: [`sha256:${digestOf("a-secret-key")}`] }, b: { keys: ["b-secret-key"] } }), true);
  });

  it("is false when every key is a digest, or there are no consumers", () => {
    assert.equal(hasPlaintextKeys({ a: { keys: [`sha256:${digestOf("a-secret-key")}`] } }), false);
    assert.equal(hasPlaintextKeys({}), false);
  });
});
