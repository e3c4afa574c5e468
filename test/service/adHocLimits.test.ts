// An ad-hoc limit becomes a store check whose key holds everything that defines the limit (the
// namespace, the algorithm, the limit and the window) with the identifier, encoded, as the subject;
// equal limits share one policy object, and ad-hoc limits fail closed when the store is away.
import assert from "node:assert/strict";
import { it } from "node:test";
import { adHocCheck, type AdHocLimit } from "../../src/service/adHocLimits.js";

const spec: AdHocLimit = { namespace: "emails", identifier: "user-42", algorithm: "gcra", limit: 100, windowMs: 60_000, cost: 1 };

it("keys the counter by namespace, algorithm, limit and window, the identifier as its subject", () => {
  const check = adHocCheck(spec);
  assert.equal(check.key, "svc-adhoc:emails:gcra:100:60000|user-42");
  assert.deepEqual(check.policy, { name: "emails", algorithm: "gcra", limit: 100, windowMs: 60_000, onStoreFailure: "closed" });
  assert.equal(check.cost, 1);
  const keys = new Set([
    check.key,
    adHocCheck({ ...spec, namespace: "sms" }).key,
    adHocCheck({ ...spec, algorithm: "fixed-window" }).key,
    adHocCheck({ ...spec, limit: 101 }).key,
    adHocCheck({ ...spec, windowMs: 61_000 }).key,
    adHocCheck({ ...spec, identifier: "user-43" }).key,
  ]);
  assert.equal(keys.size, 6);
});

it("encodes the identifier, so it can neither split the key nor choose its hash tag", () => {
  const { key } = adHocCheck({ ...spec, identifier: "a|b}{c" });
  assert.equal(key, "svc-adhoc:emails:gcra:100:60000|a%7Cb%7D%7Bc");
});

it("shares one policy object among equal limits (the over-limit cache knows a policy by identity)", () => {
  assert.equal(adHocCheck(spec).policy, adHocCheck({ ...spec, identifier: "someone-else", cost: 5 }).policy);
  assert.notEqual(adHocCheck(spec).policy, adHocCheck({ ...spec, limit: 7 }).policy);
});

it("gives a token bucket a capacity of its limit", () => {
  assert.deepEqual(adHocCheck({ ...spec, algorithm: "token-bucket" }).policy, { name: "emails", algorithm: "token-bucket", limit: 100, windowMs: 60_000, capacity: 100, onStoreFailure: "closed" });
});

it("keys and shapes a caller's burst or capacity, keeping the key of one equal to the limit", () => {
  const burst = adHocCheck({ ...spec, burst: 150 });
  assert.equal(burst.key, "svc-adhoc:emails:gcra:100:60000:150|user-42");
  assert.deepEqual(burst.policy, { name: "emails", algorithm: "gcra", limit: 100, windowMs: 60_000, burst: 150, onStoreFailure: "closed" });
  const bucket = adHocCheck({ ...spec, algorithm: "token-bucket", capacity: 20 });
  assert.equal(bucket.key, "svc-adhoc:emails:token-bucket:100:60000:20|user-42");
  assert.deepEqual(bucket.policy, { name: "emails", algorithm: "token-bucket", limit: 100, windowMs: 60_000, capacity: 20, onStoreFailure: "closed" });
  assert.equal(adHocCheck({ ...spec, burst: 100 }).key, adHocCheck(spec).key);
  assert.equal(adHocCheck({ ...spec, burst: 100 }).policy, adHocCheck(spec).policy);
  assert.equal(adHocCheck({ ...spec, algorithm: "token-bucket", capacity: 100 }).key, adHocCheck({ ...spec, algorithm: "token-bucket" }).key);
});
