// A real `sluice start` changed and stopped while it serves: the config file edited in place or
// replaced (as editors do) applies to the next request, an invalid file is refused with the
// loader's message while the running config stays, SIGHUP reloads; and SIGTERM under load drains
// (readiness first, then the listener) without failing one request it had accepted, and exits 0.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Agent, request } from "undici";
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

describe("SIGTERM under load", () => {
  const DELAY_MS = 400;
  let upstream: Server;
  let received = 0;
  let sluice: SluiceProcess;

  before(async () => {
    // A slow upstream, so that requests are in flight when the signal comes.
    upstream = createServer((req, res) => {
      // Only the clients' requests.
      if (req.url === "/work") received++;
      setTimeout(() => res.end("done"), DELAY_MS);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const file = join(dir, "drain.yaml");
    await writeFile(file, `
server: { drainDelay: 1s, shutdownTimeout: 10s }
services:
  slow: { upstream: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}", openapi: false }
consumers:
  demo: { keys: [secret-key] }
`);
    sluice = await startCli(["--config", file, "--no-demo"]);
  });
  after(async () => {
    await sluice?.stop();
    upstream?.close();
  });

  it("drains: readiness goes 503, every accepted request is answered, the process exits 0", async () => {
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 50 });
    const statuses: number[] = [];
    const errors: string[] = [];
    let answeredAfterSignal = 0;
    let signalled = false;
    // Twenty clients on keep-alive connections, each sending again as soon as it is answered,
    // until the gateway no longer takes connections.
    const client = async () => {
      for (;;) {
        try {
          const response = await request(`${sluice.url}/api/slow/work`, { headers: { "x-api-key": "secret-key" }, dispatcher: agent });
          await response.body.text();
          statuses.push(response.statusCode);
          if (signalled) answeredAfterSignal++;
        } catch (error) {
          errors.push((error as { code?: string }).code ?? String(error));
          return;
        }
      }
    };
    const clients = Array.from({ length: 20 }, client);
    await pollUntil(async () => (await delay(20), received), (n) => n >= 40, 30_000);

    signalled = true;
    sluice.child.kill("SIGTERM");
    const readiness = await pollUntil(async () => {
      const response = await fetch(`${sluice.url}/readyz`).catch(() => undefined);
      return response && { status: response.status, body: (await response.json()) as { status: string } };
    }, (r) => r?.status === 503, 2_000);
    assert.equal(readiness?.status, 503);
    assert.equal(readiness?.body.status, "shutting down");

    await Promise.all(clients);
    const { child } = sluice;
    const code = child.exitCode ?? ((await once(child, "exit")) as [number | null])[0];
    await agent.close();

    assert.equal(code, 0, sluice.output().stderr);
    assert.ok(answeredAfterSignal >= 20, `only ${answeredAfterSignal} requests were answered after SIGTERM`);
    assert.deepEqual([...new Set(statuses)], [200]);
    // Every request the gateway passed on was answered to its client: none was cut off.
    assert.equal(statuses.length, received);
    // The clients stopped because the listener closed (a connection still in the kernel's queue
    // is reset); a request the gateway had accepted would have been counted above.
    assert.deepEqual([...new Set(errors)].filter((code) => !["ECONNREFUSED", "ECONNRESET", "UND_ERR_SOCKET"].includes(code)), []);
    assert.ok(errors.includes("ECONNREFUSED"));
  });
});
