// A real `sluice start` changed and stopped while it serves: the config file edited in place or
// replaced (as editors do) applies to the next request, an invalid file is refused with the
// loader's message while the running config stays, SIGHUP reloads; and SIGTERM under load from
// twenty keep-alive clients drains as Envoy does (readiness off and `Connection: close` on every
// response, then the listener) without failing one request, on the gateway or on /healthz, and
// exits 0.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Agent, fetch } from "undici";
import { pollUntil } from "../support/poll.js";
import { startCli, type SluiceProcess } from "../support/sluiceProcess.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-lifecycle-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Replaces the file the way editors and deploy tools do: a new file renamed over the old one. */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

async function policyHeader(sluice: SluiceProcess): Promise<string> {
  const response = await fetch(`${sluice.url}/api/users/users/104`, { headers: { "x-api-key": "secret-key" } });
  await response.body?.cancel();
  return response.headers.get("ratelimit-policy") ?? "";
}

const demoConfig = (limit: number) => `
limits:
  per-client: { algorithm: sliding-window-log, limit: ${limit}, window: 30s }
defaults: { limits: [per-client] }
services:
  users: { upstream: "demo://users" }
consumers:
  demo: { keys: [secret-key] }
`;

describe("reloading the config of a running process", () => {
  let file: string;
  let sluice: SluiceProcess;
  before(async () => {
    file = join(dir, "reload.yaml");
    await writeFile(file, demoConfig(100));
    sluice = await startCli(["--config", file]);
  });
  after(() => sluice?.stop());

  it("applies a file rewritten in place to the next requests", async () => {
    await writeFile(file, demoConfig(101));
    assert.match(await pollUntil(() => policyHeader(sluice), (h) => h.includes("q=101"), 5_000), /"per-client";q=101;w=30/);
  });

  it("applies a file replaced by a rename, as editors save", async () => {
    await replaceFile(file, demoConfig(102));
    assert.match(await pollUntil(() => policyHeader(sluice), (h) => h.includes("q=102"), 5_000), /"per-client";q=102;w=30/);
  });

  it("refuses an invalid file with the loader's message and keeps serving the running config", async () => {
    await replaceFile(file, demoConfig(0));
    const logged = await pollUntil(async () => (await delay(20), sluice.output().stdout), (out) => out.includes("configuration not reloaded"), 5_000);
    const line = logged.split("\n").find((l) => l.includes("configuration not reloaded"))!;
    assert.match((JSON.parse(line) as { msg: string }).msg, /the running one stays: invalid configuration in .*reload\.yaml:\n.*limits\.per-client\.limit/);
    assert.match(await policyHeader(sluice), /q=102/);
  });

  it("reloads on SIGHUP", async () => {
    // The watcher sees the new file too; whichever comes first applies it.
    await replaceFile(file, demoConfig(103));
    sluice.child.kill("SIGHUP");
    assert.match(await pollUntil(() => policyHeader(sluice), (h) => h.includes("q=103"), 5_000), /q=103/);
  });
});

describe("SIGTERM under keep-alive load", () => {
  const DELAY_MS = 100;
  let upstream: Server;
  let received = 0;

  before(async () => {
    // A slow upstream, so that requests are in flight when the signal comes.
    upstream = createServer((req, res) => {
      // Only the clients' requests.
      if (req.url === "/work") received++;
      setTimeout(() => res.end("done"), DELAY_MS);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  });
  after(() => upstream?.close());

  // Without a drain delay (the default) the listener closes at the signal; with one, after it.
  for (const drainDelay of [undefined, "1s"]) {
    it(`drains like Envoy${drainDelay === undefined ? "" : `, after a drainDelay of ${drainDelay}`}: each of 20 keep-alive clients is told to close its connection, no request fails, and the process exits 0`, async () => {
      const file = join(dir, `keep-alive-${drainDelay ?? "none"}.yaml`);
      await writeFile(file, `
server: { shutdownTimeout: 10s${drainDelay === undefined ? "" : `, drainDelay: ${drainDelay}`} }
services:
  slow: { upstream: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}", openapi: false }
consumers:
  demo: { keys: [secret-key] }
`);
      const sluice = await startCli(["--config", file, "--no-demo"]);
      received = 0;
      const failed: string[] = [];
      const answered = { "/api/slow/work": 0, "/healthz": 0 };
      let answeredAfterSignal = 0;
      let signalled = false;
      // Twenty clients on fetch (undici's, which is Node's), each keeping one connection alive:
      // half on the gateway, half on the control plane's /healthz, each sending again as soon as
      // it is answered. A response that says `Connection: close` retires the client's connection;
      // behind a load balancer its next request would go to another instance, so here it stops.
      const client = async (path: keyof typeof answered) => {
        const connection = new Agent({ connections: 1 });
        for (;;) {
          try {
            const response = await fetch(sluice.url + path, { headers: { "x-api-key": "secret-key" }, dispatcher: connection });
            await response.arrayBuffer();
            if (response.status !== 200) failed.push(`${path}: ${response.status}`);
            answered[path]++;
            if (signalled) answeredAfterSignal++;
            if (response.headers.get("connection") === "close") return await connection.close();
          } catch (error) {
            failed.push(`${path}: ${(error as { cause?: { code?: string } }).cause?.code ?? String(error)}`);
            return await connection.destroy();
          }
        }
      };
      try {
        const clients = Array.from({ length: 20 }, (_, i) => client(i % 2 === 0 ? "/api/slow/work" : "/healthz"));
        await pollUntil(async () => (await delay(20), received), (n) => n >= 40, 30_000);

        signalled = true;
        sluice.child.kill("SIGTERM");
        if (drainDelay !== undefined) {
          // A signal is delivered asynchronously: a probe sent right after kill() may still be
          // answered "ready". Within the drain delay it must turn to "shutting down".
          const readyz = async () => {
            const readiness = await fetch(`${sluice.url}/readyz`);
            const body = (await readiness.json()) as { status: string };
            return [readiness.status, body.status, readiness.headers.get("connection")];
          };
          assert.deepEqual(await pollUntil(readyz, ([status]) => status === 503, 800), [503, "shutting down", "close"]);
        }
        await Promise.all(clients);
        const { child } = sluice;
        const code = child.exitCode ?? ((await once(child, "exit")) as [number | null])[0];

        assert.equal(code, 0, sluice.output().stderr);
        assert.deepEqual(failed, [], "no request failed, on the gateway or on /healthz");
        assert.ok(answeredAfterSignal >= 20, `every client was answered after the signal (${answeredAfterSignal})`);
        // Every request the gateway passed on was answered to its client: none was cut off.
        assert.equal(answered["/api/slow/work"], received);
      } finally {
        await sluice.stop();
      }
    });
  }
});
