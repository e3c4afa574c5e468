// The store's scripts reach an algorithm's Lua through an if-chain on its code: one branch per
// fragment, in registry order. Run in a real Redis, each code reaches its own branch and no other.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { REGISTRATIONS } from "../../../src/limiter/algorithms/index.js";
import { fragments, luaDispatch, type LuaBranch } from "../../../src/stores/redis/luaDispatch.js";
import { testRedisClient } from "../../support/redis.js";

const redis = testRedisClient();
after(() => redis.quit());

const branches: LuaBranch[] = [
  { name: "first", code: "a", lua: 'r = "first"' },
  { name: "second", code: "b", lua: 'r = "second"\n\nr = r .. "!"' },
];

describe("luaDispatch", () => {
  it("chains one branch per fragment, each named, its lines indented and blank lines left empty", () => {
    assert.equal(luaDispatch("code", branches, "  "), [
      '  if code == "a" then -- first',
      '    r = "first"',
      '  elseif code == "b" then -- second',
      '    r = "second"',
      "",
      '    r = r .. "!"',
      "  end",
    ].join("\n"));
  });

  it("writes nothing when no algorithm has the fragment", () => {
    assert.equal(luaDispatch("code", [], "  "), "");
  });

  it("runs the branch of the code it is given, and none for an unknown code", async () => {
    const script = `local code, r = ARGV[1], "none"\n${luaDispatch("code", branches, "")}\nreturn r`;
    const run = (code: string) => redis.eval(script, 0, code);
    assert.deepEqual(await Promise.all(["a", "b", "z"].map(run)), ["first", "second!", "none"]);
  });
});

describe("fragments", () => {
  it("takes one kind of fragment from every registered algorithm, in registry order", () => {
    assert.deepEqual(fragments((lua) => lua.decide).map((b) => b.name), REGISTRATIONS.map((r) => r.name));
    assert.deepEqual(fragments((lua) => lua.decide).map((b) => b.lua), REGISTRATIONS.map((r) => r.lua.decide));
  });

  it("leaves out the algorithms without that fragment", () => {
    const preparing = REGISTRATIONS.filter((r) => r.lua.prepare !== undefined).map((r) => r.name);
    assert.deepEqual(fragments((lua) => lua.prepare).map((b) => b.name), preparing);
    assert.ok(preparing.length < REGISTRATIONS.length, "a fixed window needs no preparation");
  });

  it("hands a fragment the expressions of the check's fields it reads", () => {
    const [concurrency] = fragments((lua) => lua.store({ lease: "LEASE_EXPRESSION" })).filter((b) => b.name === "concurrency");
    assert.match(concurrency!.lua, /LEASE_EXPRESSION/);
  });
});
