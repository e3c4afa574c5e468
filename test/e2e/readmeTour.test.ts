// The README's 5-minute tour, run for real: `sluice start` with the shipped demo config, then
// every command between the tour markers in order, checking each output line the README shows
// (`<n>` stands for a number). If the README and the product disagree, this fails.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT, startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const sh = promisify(execFile);
const README_URL = "http://127.0.0.1:8080";

interface TourStep {
  readonly command: string;
  readonly expected: readonly string[];
}

async function readTour(): Promise<TourStep[]> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const tour = /<!-- tour:start[^>]*-->([\s\S]*?)<!-- tour:end -->/.exec(readme)?.[1];
  assert.ok(tour, "README.md has no tour markers");
  const steps: TourStep[] = [];
  for (const line of tour.split("\n")) {
    if (line.startsWith("# → ")) (steps.at(-1)?.expected as string[] | undefined)?.push(line.slice(4));
    else if (line.trim() !== "" && !line.startsWith("#") && !line.startsWith("```")) steps.push({ command: line, expected: [] });
  }
  return steps;
}

function linePattern(expected: string): RegExp {
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("<n>", "\\d+");
  return new RegExp(`^${escaped}$`);
}

let sluice: SluiceProcess;
let steps: TourStep[];

before(async () => {
  steps = await readTour();
  sluice = await startCli();
});
after(async () => {
  const { code } = await sluice.stop();
  assert.equal(code, 0, "sluice exits 0 on SIGTERM");
});

describe("the README tour", () => {
  it("has steps that show their output", () => {
    assert.ok(steps.length >= 10, `only ${steps.length} steps found`);
    assert.ok(steps.filter((s) => s.expected.length > 0).length >= 10);
  });

  it("gives exactly the answers the README shows, in order", async () => {
    for (const step of steps) {
      const command = step.command.replaceAll(README_URL, sluice.url);
      const { stdout } = await sh("sh", ["-c", command], { timeout: 10_000 });
      const lines = stdout.replaceAll("\r", "").trimEnd().split("\n").map((l) => l.trimEnd());
      if (step.expected.length === 0) continue;
      assert.equal(lines.length, step.expected.length, `${step.command}\nprinted:\n${stdout}`);
      step.expected.forEach((expected, i) => assert.match(lines[i]!, linePattern(expected), step.command));
    }
  });
});
