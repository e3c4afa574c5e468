// The decide script is assembled from the registry: each algorithm's decide, prepare and store
// fragments in a branch on its code, in registry order. Its SHA is pinned, so a change to any
// fragment or to the script around them is deliberate (and measured: bench/README.md).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REGISTRATIONS } from "../../../src/limiter/algorithms/index.js";
import { ALGORITHM_CODES, DECIDE_SCRIPT, DECIDE_SCRIPT_SHA } from "../../../src/stores/redis/decideScript.js";
import { branchBody, branchHeads } from "../../support/luaBranches.js";

/** The store loop's expression for a check's lease. */
const LEASE = "ARGV[j + 2]";

describe("the decide script", () => {
  it("has the pinned SHA: a changed script is re-measured (BENCH_QUICK=1 npm run bench:limiter) and pinned again", () => {
    assert.equal(DECIDE_SCRIPT_SHA, "426662cb99c5b403336512bdd4db0a33d0df0a6e");
  });

  it("decides each algorithm by its decide fragment, in a branch on its code, in registry order", () => {
    assert.deepEqual(branchHeads(DECIDE_SCRIPT, "code").map(([code]) => code), REGISTRATIONS.map((r) => r.code));
    for (const { name, code, lua } of REGISTRATIONS) assert.equal(branchBody(DECIDE_SCRIPT, "code", code), lua.decide, name);
  });

  it("prepares each policy by its algorithm's prepare fragment, and stores an admitted state by its store fragment", () => {
    const withPrepare = REGISTRATIONS.filter((r) => r.lua.prepare !== undefined);
    // The chain on `c` runs twice: once per policy (prepare), then once per admitted check (store).
    const heads = branchHeads(DECIDE_SCRIPT, "c").map(([code]) => code);
    assert.deepEqual(heads, [...withPrepare.map((r) => r.code), ...REGISTRATIONS.map((r) => r.code)]);
    const storeChain = DECIDE_SCRIPT.slice(DECIDE_SCRIPT.indexOf("Stores the admitted state"));
    for (const { name, code, lua } of REGISTRATIONS) {
      if (lua.prepare !== undefined) assert.equal(branchBody(DECIDE_SCRIPT, "c", code), lua.prepare, name);
      assert.equal(branchBody(storeChain, "c", code), lua.store({ lease: LEASE }), name);
    }
  });

  it("builds no closure beyond its own four functions: no fragment defines one (Cost., decideScript.ts)", () => {
    assert.deepEqual(DECIDE_SCRIPT.match(/local function \w+/g), ["local function fmt", "local function decide", "local function num", "local function answer"]);
    assert.equal(DECIDE_SCRIPT.match(/\bfunction\b/g)?.length, 4);
  });

  it("names each algorithm's keys by its registered code", () => {
    assert.deepEqual(Object.entries(ALGORITHM_CODES), REGISTRATIONS.map((r) => [r.name, r.code]));
  });
});
