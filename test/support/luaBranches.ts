/**
 * Reads an assembled Lua script the way a person would: the branches of its if-chains on an
 * algorithm's code (src/stores/redis/luaDispatch.ts), so tests can find each algorithm's fragment
 * where the script runs it.
 */

/** The heads of the branches testing `variable`, in the script's order: [code, line]. */
export function branchHeads(script: string, variable: string): [code: string, line: number][] {
  const head = new RegExp(`^\\s*(?:if|elseif) ${variable} == "([a-z])" then`);
  return script.split("\n").flatMap((line, i): [string, number][] => {
    const code = head.exec(line)?.[1];
    return code === undefined ? [] : [[code, i]];
  });
}

/** The body of the branch testing `variable` against `code`, its indentation removed; undefined when there is none. */
export function branchBody(script: string, variable: string, code: string): string | undefined {
  const lines = script.split("\n");
  const start = branchHeads(script, variable).find(([c]) => c === code)?.[1];
  if (start === undefined) return undefined;
  const indent = /^\s*/.exec(lines[start]!)![0];
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line !== "" && !line.startsWith(`${indent}  `)) break; // the next elseif, or the end
    body.push(line.slice(indent.length + 2));
  }
  return body.join("\n");
}
