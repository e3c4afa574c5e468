// The registry is the one list of algorithms: the config's choices come from it in a fixed order,
// and each entry carries a Redis code of its own and a parameter for the store's scripts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALGORITHM_NAMES, algorithmOf, REGISTRATIONS, registrationOf } from "../../../src/limiter/algorithms/index.js";
import type { Policy } from "../../../src/limiter/policy.js";

const common = { name: "p", limit: 10, windowMs: 1000 } as const;

describe("the algorithm registry", () => {
  it("lists the algorithms in the order the config and its docs offer them", () => {
    assert.deepEqual(ALGORITHM_NAMES, ["gcra", "token-bucket", "sliding-window-log", "sliding-window-counter", "fixed-window", "concurrency"]);
    assert.deepEqual(REGISTRATIONS.map((r) => r.name), ALGORITHM_NAMES);
  });

  it("registers each algorithm under its own name", () => {
    for (const { name, algorithm } of REGISTRATIONS) assert.equal(algorithm.name, name);
    assert.equal(algorithmOf({ ...common, algorithm: "sliding-window-log" }), registrationOf("sliding-window-log").algorithm);
  });

  it("gives each algorithm a Redis code of its own, one lower-case letter", () => {
    const codes = REGISTRATIONS.map((r) => r.code);
    for (const code of codes) assert.match(code, /^[a-z]$/);
    assert.equal(new Set(codes).size, codes.length, `codes ${codes.join(", ")}`);
  });

  it("encodes the one parameter each policy sends the Redis scripts", () => {
    const cases: [Policy, number][] = [
      [{ ...common, algorithm: "gcra" }, 0],
      [{ ...common, algorithm: "gcra", burst: 3 }, 3],
      [{ ...common, algorithm: "token-bucket", capacity: 25 }, 25],
      [{ ...common, algorithm: "sliding-window-log" }, 0],
      [{ ...common, algorithm: "sliding-window-counter" }, 0],
      [{ ...common, algorithm: "fixed-window" }, 0],
      [{ ...common, algorithm: "fixed-window", align: "first-request" }, 0],
      [{ ...common, algorithm: "fixed-window", align: "clock" }, 1],
      [{ ...common, algorithm: "concurrency" }, 0],
    ];
    for (const [policy, parameter] of cases) assert.equal(registrationOf(policy.algorithm).lua.parameterOf(policy), parameter, JSON.stringify(policy));
  });
});
