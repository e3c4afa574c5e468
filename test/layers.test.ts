// The layers of src/ are a fact, not a hope: the folders import each other in one direction only.
// The rule is the table "Who may import whom" in docs/architecture.md, read from there, so the
// documentation and the code cannot drift apart. Every import counts, type-only imports and
// dynamic import() included: a type import still ties a folder to another's vocabulary.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SRC = join(ROOT, "src");
/** Files at the top of src/ (sluice.ts: the start-up) form the layer of their own that the table calls `sluice.ts`. */
const TOP = "sluice.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function folderOf(file: string): string {
  const path = relative(SRC, file);
  return path.includes(sep) ? path.split(sep)[0]! : TOP;
}

/** Every relative module a file names: import and export … from, import type, and import(). */
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}\/[^"]+)"|\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** folder → folder → the imports that make the edge, as "file → module". */
function importGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    for (const match of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), (match[1] ?? match[2])!);
      if (!target.startsWith(SRC)) continue;
      const to = folderOf(target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} → ${relative(SRC, target)}`]);
    }
  }
  return graph;
}

/** The table: folder → the folders it may import. */
function allowedImports(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
  const section = doc.split(/\n### Who may import whom\n/)[1]?.split(/\n#{2,3} /)[0];
  assert.ok(section !== undefined, 'docs/architecture.md has a "### Who may import whom" section');
  const allowed = new Map<string, Set<string>>();
  for (const [, folder, imports] of section.matchAll(/^\| `([^`]+)` \| ([^|]*)\|/gm)) {
    allowed.set(folder!, new Set([...imports!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)));
  }
  return allowed;
}

/** Folders that reach themselves through the given edges (Tarjan's strongly connected components). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("the layers of src/", () => {
  const graph = importGraph();
  const allowed = allowedImports();

  it("lists every folder of src/ in docs/architecture.md's table, and nothing else", () => {
    const folders = new Set([TOP, ...readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)]);
    assert.deepEqual([...allowed.keys()].sort(), [...folders].sort());
  });

  it("allows no cycle in the table itself", () => {
    assert.deepEqual(cycles(allowed), []);
  });

  it("has no folder import another that the table does not allow", () => {
    const wrong: string[] = [];
    for (const [from, edges] of graph) {
      for (const [to, imports] of edges) {
        if (!allowed.get(from)?.has(to)) wrong.push(`${from} → ${to}: ${imports.join("; ")}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("has no folder cycle in the imports", () => {
    const edges = new Map([...graph].map(([from, to]) => [from, new Set(to.keys())]));
    assert.deepEqual(cycles(edges), []);
  });
});
