// The registry is the one list of algorithms: the config's choices come from it, in the order
// the docs list them; each algorithm is a folder with its table tests beside, and each entry
// carries a Redis code of its own and a parameter for the store's scripts.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { ALGORITHM_NAMES, algorithmOf, REGISTRATIONS, registrationOf } from "../../../src/limiter/algorithms/index.js";
import type { Policy } from "../../../src/limiter/policy.js";

const common = { name: "p", limit: 10, windowMs: 1000 } as const;

/** An algorithm's folder: its name in camel case ("token-bucket" → tokenBucket). */
const folderOf = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

describe("the algorithm registry", () => {
  it("offers the config the algorithms in the order docs/config.md lists them", async () => {
    const docs = await readFile(new URL("../../../docs/config.md", import.meta.url), "utf8");
    const row = /^\| `algorithm` \| (.*?) \| `gcra` \|/m.exec(docs)?.[1];
    assert.deepEqual(row?.split(" \\| ").map((choice) => choice.replaceAll("`", "")), ALGORITHM_NAMES);
  });

  it("keeps each algorithm in a folder of its own, its table tests in the mirrored folder", () => {
    for (const name of ALGORITHM_NAMES) {
      const folder = folderOf(name);
      for (const file of [`src/limiter/algorithms/${folder}/${folder}.ts`, `src/limiter/algorithms/${folder}/${folder}Lua.ts`, `test/limiter/algorithms/${folder}/${folder}.test.ts`]) {
        assert.ok(existsSync(new URL(`../../../${file}`, import.meta.url)), `${name}: ${file}`);
      }
    }
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
