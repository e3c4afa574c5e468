// The metrics' documentation and the sample Grafana dashboard stay true to what /metrics really
// exports: every sluice_* series a running Sluice serves is in docs/operations.md with exactly its
// labels, and every series the dashboard queries exists.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";

const ADMIN_TOKEN = "metrics-docs-admin-token";
const DOCS = new URL("../../docs/operations.md", import.meta.url);
const DASHBOARD = new URL("../../docs/grafana/sluice.json", import.meta.url);

/** Each exported metric family's name and the label names its samples carry (`le` aside). */
function families(exposition: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const line of exposition.split("\n")) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type !== null) found.set(type[1]!, new Set());
  }
  for (const line of exposition.split("\n")) {
    const sample = /^([a-z_]+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/.exec(line);
    if (sample === null) continue;
    const labels = found.get(sample[1]!) ?? found.get(/^[a-z_]+/.exec(line)![0]);
    for (const [, name] of sample[2]!.matchAll(/([a-z_]+)="/g)) if (name !== "le") labels?.add(name!);
  }
  return found;
}

describe("the metrics' documentation and dashboard", () => {
  let running: AccountsSluice;
  let exported: Map<string, Set<string>>;

  before(async () => {
    running = await startAccountsSluice((upstream) => `
limits:
  per-client: { algorithm: fixed-window, limit: 5, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", limits: [per-client], openapi: false }
consumers:
  alice: { keys: [alice-key-0001] }
policies:
  emails:
    descriptors: [{ key: identifier, limit: { limit: 5, window: 1m } }]
`, { adminToken: ADMIN_TOKEN });
    // One admitted request and one problem, so every family has samples to show its labels.
    await (await running.sluice.call("/api/echo/x", { key: "alice-key-0001" })).arrayBuffer();
    await (await running.sluice.call("/api/echo/x")).arrayBuffer();
    // And one call of the rate-limit service, for its series' labels.
    const decision = { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ policy: "emails", identifier: "a" }) };
    await (await running.sluice.call("/v1/ratelimit", decision)).arrayBuffer();
    const metric = 'sluice_gateway_problems_total{service="-",status="401",code="SLUICE_ERR_UNAUTHORIZED"} 1';
    let text = "";
    for (let attempt = 0; attempt < 50 && !text.split("\n").includes(metric); attempt++) text = await (await running.sluice.call("/metrics")).text();
    exported = families(text);
  });
  after(() => running.close());

  it("documents every sluice_* series with exactly its labels", async () => {
    const docs = await readFile(DOCS, "utf8");
    const documented = new Map<string, Set<string>>();
    for (const [, name, labels] of docs.matchAll(/^\| `(sluice_[a-z_]+)` \| \w+ \|([^|]*)\|/gm)) {
      documented.set(name!, new Set([...labels!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)));
    }
    const ours = [...exported].filter(([name]) => name.startsWith("sluice_"));
    assert.ok(ours.length >= 12, `found ${ours.length} sluice_* families`);
    for (const [name, labels] of ours) {
      assert.deepEqual(documented.get(name), labels, `${name} in docs/operations.md`);
    }
    assert.deepEqual([...documented.keys()].filter((name) => !exported.has(name)), [], "documented but not exported");
  });

  it("queries in the Grafana dashboard only series that exist", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: { targets?: { expr: string }[] }[] };
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets ?? []) {
        for (const [name] of expr.matchAll(/\b(?:sluice|process|nodejs)_[a-z0-9_]+/g)) queried.add(name.replace(/_(?:bucket|sum|count)$/, ""));
      }
    }
    assert.ok(queried.size >= 12, `the dashboard queries ${queried.size} series`);
    assert.deepEqual([...queried].filter((name) => !exported.has(name)), []);
  });
});
