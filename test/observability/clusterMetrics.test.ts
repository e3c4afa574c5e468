// Under `sluice start --workers N` a scrape reaches whichever worker accepts it; every worker
// answers for all of them, through the primary: counters summed, and a gauge like "Redis is
// failing" by its own rule (the worst of the workers), so no scrape sees a counter go backwards.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { metricLines } from "../support/metricLines.js";

const PROCESS = new URL("../support/clusterMetricsProcess.ts", import.meta.url).pathname;

describe("metrics of a cluster of workers", () => {
  let primary: ChildProcess;
  let workers: string[];

  before(async () => {
    primary = spawn(process.execPath, ["--import", "tsx", PROCESS], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(primary.stdout!, "data")) as [Buffer];
    workers = JSON.parse(line.toString()) as string[];
  });
  after(async () => {
    primary.kill("SIGTERM");
    await once(primary, "exit");
  });

  it("are the same, every worker's aggregated, whichever worker is scraped", async () => {
    assert.equal(workers.length, 2);
    for (const url of workers) {
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.deepEqual(metricLines(text, 'sluice_limiter_decisions_total{limit="shared",outcome="allowed"}'), ['sluice_limiter_decisions_total{limit="shared",outcome="allowed"} 3'], url);
      assert.deepEqual(metricLines(text, 'sluice_gateway_request_duration_seconds_bucket{service="echo",route="echo:*",le="0.0025"}'), ['sluice_gateway_request_duration_seconds_bucket{service="echo",route="echo:*",le="0.0025"} 0']);
      assert.deepEqual(metricLines(text, 'sluice_gateway_request_duration_seconds_count{service="echo",route="echo:*"}'), ['sluice_gateway_request_duration_seconds_count{service="echo",route="echo:*"} 3']);
      assert.deepEqual(metricLines(text, "sluice_limiter_store_degraded"), ["sluice_limiter_store_degraded 1"], "one worker finds Redis failing: the instance does");
    }
  });
});
