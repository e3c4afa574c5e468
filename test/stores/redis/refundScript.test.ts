// The refund script is assembled from the registry like the decide script: each algorithm's
// refund fragment in a branch on its code. Its SHA is pinned too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REGISTRATIONS } from "../../../src/limiter/algorithms/index.js";
import { REFUND_SCRIPT, REFUND_SCRIPT_SHA } from "../../../src/stores/redis/refundScript.js";
import { branchBody, branchHeads } from "../../support/luaBranches.js";

describe("the refund script", () => {
  it("has the pinned SHA", () => {
    assert.equal(REFUND_SCRIPT_SHA, "8da5f56b99291cd8228a48f22c30dc6f58d765ec");
  });

  it("gives back each algorithm's charge by its refund fragment, in a branch on its code, in registry order", () => {
    assert.deepEqual(branchHeads(REFUND_SCRIPT, "code").map(([code]) => code), REGISTRATIONS.map((r) => r.code));
    for (const { name, code, lua } of REGISTRATIONS) assert.equal(branchBody(REFUND_SCRIPT, "code", code), lua.refund({ lease: "ARGV[j + 5]" }), name);
  });

  it("defines no function but its own two", () => {
    assert.equal(REFUND_SCRIPT.match(/\bfunction\b/g)?.length, 2);
  });
});
