// Several targets behind one service: requests spread over them, a target that dies under load
// loses its traffic to the healthy ones with no more errors than the requests it had in flight,
// an ejected target gets one probe after its backoff and its share back once it answers, and
// retries go to another target only when nothing was sent, within the budget.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";
import { freePort as closedPort } from "../../support/freePort.js";

const KEY = "balancing-test-key";

/** An upstream that answers with its own name. */
function named(name: string): Promise<RecordingUpstream> {
  return startRecordingUpstream((_request, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(name);
  });
}

/** Who answered each of `count` sequential GETs (or the status, when the gateway answered itself). */
async function answers(sluice: TestSluice, path: string, count: number, init: RequestInit = {}): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await sluice.call(path, { key: KEY, ...init });
    seen.push(response.status === 200 ? await response.text() : String(response.status));
    if (response.status !== 200) await response.body?.cancel();
  }
  return seen;
}

function tally(seen: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of seen) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

describe("round-robin over three targets", () => {
  let targets: RecordingUpstream[];
  let sluice: TestSluice;
  before(async () => {
    targets = await Promise.all(["a", "b", "c"].map(named));
    sluice = await startTestSluice(`
services:
  spread: { upstreams: [${targets.map((t) => `"${t.url}"`).join(", ")}], openapi: false }
consumers:
  tester: { keys: [${KEY}] }
`);
  });
  after(async () => {
    await sluice.close();
    await Promise.all(targets.map((t) => t.close()));
  });

  it("sends each target an equal share", async () => {
    assert.deepEqual(tally(await answers(sluice, "/api/spread/x", 30)), { a: 10, b: 10, c: 10 });
  });

  it("keeps serving when a target dies under load: errors only for requests it had in flight, then none", async () => {
    const concurrency = 8;
    const statuses: number[] = [];
    const served: string[] = [];
    let started = 0;
    let killed = false;
    const worker = async () => {
      while (started < 240) {
        started++;
        if (started === 80 && !killed) {
          killed = true;
          await targets[1]!.close(); // cuts its open connections, refuses new ones
        }
        const response = await sluice.call("/api/spread/load", { key: KEY });
        statuses.push(response.status);
        if (response.status === 200) served.push(await response.text());
        else await response.body?.cancel();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const failures = statuses.filter((s) => s !== 200);
    assert.ok(failures.every((s) => s === 502), `only 502s, got ${failures.join(",")}`);
    assert.ok(failures.length <= concurrency, `at most the requests in flight at the death fail, got ${failures.length}`);
    assert.deepEqual(new Set(served.slice(-100)), new Set(["a", "c"]), "the last requests all went to the survivors");
  });
});

describe("the circuit breaker, through the gateway", () => {
  let healthy: RecordingUpstream;
  let flaky: Server;
  let flakyPort: number;
  let sluice: TestSluice;
  const listenFlaky = () => new Promise<void>((resolve) => flaky.listen(flakyPort, "127.0.0.1", resolve));
  before(async () => {
    healthy = await named("healthy");
    flaky = createServer((_req, res) => res.end("flaky"));
    flakyPort = await closedPort();
    sluice = await startTestSluice(`
services:
  pair:
    upstreams: ["http://127.0.0.1:${flakyPort}", "${healthy.url}"]
    retries: { attempts: 0 }
    circuitBreaker: { failures: 2, backoff: 10s }
    openapi: false
consumers:
  tester: { keys: [${KEY}] }
`);
  });
  after(async () => {
    await sluice.close();
    await healthy.close();
    flaky.closeAllConnections();
    await new Promise((resolve) => flaky.close(resolve));
  });

  it("ejects a target after consecutive failures, probes it after the backoff, and gives it its share back", async () => {
    const first = await answers(sluice, "/api/pair/x", 4);
    assert.deepEqual(tally(first), { 502: 2, healthy: 2 }, "two refused connections eject the target");
    assert.deepEqual(tally(await answers(sluice, "/api/pair/x", 6)), { healthy: 6 }, "ejected: all traffic to the healthy one");

    await listenFlaky();
    assert.deepEqual(tally(await answers(sluice, "/api/pair/x", 4)), { healthy: 4 }, "back, but still within its backoff");

    sluice.clock.advance(10_000);
    assert.deepEqual(tally(await answers(sluice, "/api/pair/x", 6)), { flaky: 3, healthy: 3 }, "the probe succeeded: shares are even again");
  });
});

describe("retries", () => {
  let healthy: RecordingUpstream;
  let port: number;
  const start = async (retries: string) => startTestSluice(`
services:
  retried:
    upstreams: ["http://127.0.0.1:${port}", "${healthy.url}"]
    retries: ${retries}
    circuitBreaker: { failures: 1000 }
    openapi: false
consumers:
  tester: { keys: [${KEY}] }
`);
  before(async () => {
    healthy = await named("healthy");
    port = await closedPort();
  });
  after(() => healthy.close());

  it("retries an idempotent request whose connection was refused on another target", async () => {
    const sluice = await start("{ attempts: 1 }");
    try {
      assert.deepEqual(tally(await answers(sluice, "/api/retried/x", 6)), { healthy: 6 });
    } finally {
      await sluice.close();
    }
  });

  it("never retries a request with a body, nor a non-idempotent method", async () => {
    const sluice = await start("{ attempts: 1 }");
    try {
      const posts = await answers(sluice, "/api/retried/x", 4, { method: "POST", body: "payload" });
      assert.deepEqual(tally(posts), { 502: 2, healthy: 2 });
      const puts = await answers(sluice, "/api/retried/x", 4, { method: "PUT", body: "payload" });
      assert.deepEqual(tally(puts), { 502: 2, healthy: 2 });
    } finally {
      await sluice.close();
    }
  });

  it("stops retrying when the budget is spent, so retries cannot multiply an outage", async () => {
    const sluice = await start("{ attempts: 1, budget: 0, minPerSecond: 0.2 }"); // two retries per 10 s window
    try {
      assert.deepEqual(tally(await answers(sluice, "/api/retried/x", 10)), { 502: 3, healthy: 7 });
    } finally {
      await sluice.close();
    }
  });

  it("does not retry when attempts is 0", async () => {
    const sluice = await start("{ attempts: 0 }");
    try {
      assert.deepEqual(tally(await answers(sluice, "/api/retried/x", 4)), { 502: 2, healthy: 2 });
    } finally {
      await sluice.close();
    }
  });
});
