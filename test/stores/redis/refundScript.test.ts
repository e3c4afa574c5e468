// The refund script is assembled from the registry like the decide script: each algorithm's
// refund fragment in a branch on its code. (Off the hot path, its SHA is not pinned.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REGISTRATIONS } from "../../../src/limiter/algorithms/index.js";
import { REFUND_SCRIPT } from "../../../src/stores/redis/refundScript.js";
import { branchBody, branchHeads } from "../../support/luaBranches.js";

describe("the refund script", () => {
  it("gives back each algorithm's charge by its refund fragment, in a branch on its code, in registry order", () => {
    assert.deepEqual(branchHeads(REFUND_SCRIPT, "code").map(([code]) => code), REGISTRATIONS.map((r) => r.code));
    for (const { name, code, lua } of REGISTRATIONS) assert.equal(branchBody(REFUND_SCRIPT, "code", code), lua.refund({ lease: "ARGV[j + 5]" }), name);
  });

  it("defines no function but its own two", () => {
    assert.equal(REFUND_SCRIPT.match(/\bfunction\b/g)?.length, 2);
  });
});
