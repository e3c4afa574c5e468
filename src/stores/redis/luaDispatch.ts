/**
 * How the store's scripts reach an algorithm's Lua: an if-chain on the algorithm's code, one
 * branch per registered algorithm that has the fragment, in registry order. A chain rather than
 * a table of functions, since Redis keeps no Lua state between calls: a table of closures would
 * be built on every call (decideScript.ts, "Cost."); a failed test of a one-letter code costs a
 * few nanoseconds.
 *
 * @example
 *   luaDispatch("code", [{ name: "gcra", code: "g", lua: "return 1" }], "  ")
 *   // →   if code == "g" then -- gcra
 *   //       return 1
 *   //     end
 */
import { REGISTRATIONS, type AlgorithmLua } from "../../limiter/algorithms/index.js";

export interface LuaBranch {
  readonly name: string;
  readonly code: string;
  readonly lua: string;
}

/** The chain, indented by `indent`; empty when no algorithm has the fragment. */
export function luaDispatch(variable: string, branches: readonly LuaBranch[], indent: string): string {
  if (branches.length === 0) return "";
  const chain = branches.map(({ name, code, lua }, i) => `${indent}${i === 0 ? "if" : "elseif"} ${variable} == "${code}" then -- ${name}\n${indented(lua, `${indent}  `)}`);
  return `${chain.join("\n")}\n${indent}end`;
}

/**
 * One kind of fragment of every registered algorithm, as branches; an algorithm without it
 * (`pick` gives undefined) is left out.
 *
 * @example fragments((lua) => lua.store({ lease: "ARGV[j + 2]" }))
 */
export function fragments(pick: (lua: AlgorithmLua) => string | undefined): LuaBranch[] {
  return REGISTRATIONS.flatMap(({ name, code, lua }) => {
    const text = pick(lua);
    return text === undefined ? [] : [{ name, code, lua: text }];
  });
}

function indented(lua: string, indent: string): string {
  return lua.split("\n").map((line) => (line === "" ? line : indent + line)).join("\n");
}
