// A limit is exact under pressure, with the defaults (a 50 ms deadline) and a healthy Redis.
// Three real Sluice processes share one Redis and one PostgreSQL. For every algorithm that
// promises exactness, a burst of 800 requests (8× the limit of 100) is sent at once, on one API
// key, to one instance and then spread over all three, through each plane: the gateway, POST
// /v1/ratelimit and gRPC ShouldRateLimit. Exactly 100 are admitted, and nothing answers 5xx.
// Then over three instances again, with each one's process frozen (SIGSTOP) for 200 ms in the
// middle of the burst, as a long synchronous task or a GC pause would freeze its event loop:
// replies that Redis sent meanwhile are read and used, not mistaken for a failing Redis, and the
// backlog is served, not shed.
//
// The windows are an hour long, so no bucket refills and no window rolls during a burst: the
// count does not depend on how long the burst takes.
//
// The Sluice processes run at a lower priority (nice 10) than Redis. In production Redis has its
// own CPU; on this 2-core machine, three busy gateways and the client would otherwise keep Redis
// waiting for a core past the 50 ms deadline (we measured it: Redis's slow log showed 2–8 ms
// scripts that take 0.2 ms alone, and about half the runs had late replies). A Redis that waits
// for the CPU has not answered, and the failure modes rightly apply; what this test checks is
// that a busy gateway is not taken for one.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setPriority } from "node:os";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { ServiceError } from "@grpc/grpc-js";
import { Agent, fetch } from "undici";
import { envoyRlsClient, type EnvoyRlsClient } from "../service/grpc/envoyRlsClient.js";
import { freePort } from "../support/freePort.js";
import { createScratchPostgres, type ScratchPostgres } from "../support/postgres.js";
import { TEST_REDIS_URL } from "../support/redis.js";
import { startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const LIMIT = 100;
const BURST = 8 * LIMIT;
const FREEZE_MS = 200;
const ALGORITHMS = ["gcra", "token-bucket", "sliding-window-log", "sliding-window-counter", "fixed-window"] as const;
type Algorithm = (typeof ALGORITHMS)[number];
const ADMIN_TOKEN = "pressure-admin-token-0123456789";
const API_KEY = "pressure-key-0001";

/** A limit of each algorithm, counted per burst (the x-burst header) for the one consumer. */
const limitYaml = (algorithm: Algorithm, extra = "") =>
  `{ algorithm: ${algorithm}, limit: ${LIMIT}, window: 1h${algorithm === "token-bucket" ? `, capacity: ${LIMIT}` : ""}${extra} }`;

function configYaml(prefix: string, grpcPort: number): string {
  return `
server: { grpcPort: ${grpcPort} }
limiter: { keyPrefix: "${prefix}" }
log: { access: false }
limits:
${ALGORITHMS.map((a) => `  ${a}: ${limitYaml(a, ", by: [consumer, header:x-burst]")}`).join("\n")}
services:
${ALGORITHMS.map((a) => `  ${a}: { upstream: "demo://users", limits: [${a}] }`).join("\n")}
consumers:
  demo: { keys: [${API_KEY}] }
policies:
  pressure:
    descriptors:
${ALGORITHMS.map((a) => `      - key: algorithm
        value: ${a}
        descriptors:
          - key: burst
            limit: ${limitYaml(a)}`).join("\n")}
`;
}

interface Instance {
  readonly process: SluiceProcess;
  readonly rls: EnvoyRlsClient;
}

let dir: string;
let database: ScratchPostgres;
const instances: Instance[] = [];
// One connection per request in flight, as many clients would open.
const clients = new Agent({ connections: null, pipelining: 0 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-pressure-"));
  database = await createScratchPostgres();
  const prefix = `pressure-${randomUUID()}:`;
  const env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, SLUICE_ADMIN_TOKEN: ADMIN_TOKEN };
  // One after the other: the later ones find the schema migrated by the first.
  for (let i = 0; i < 3; i++) {
    const grpcPort = await freePort();
    const config = join(dir, `sluice-${i}.yaml`);
    await writeFile(config, configYaml(prefix, grpcPort));
    const process = await startCli(["--config", config], env, 60_000, { fromSource: true });
    setPriority(process.child.pid!, 10);
    instances.push({ process, rls: envoyRlsClient(`127.0.0.1:${grpcPort}`) });
  }
});
after(async () => {
  for (const { rls } of instances) rls.close();
  await Promise.all(instances.map(({ process }) => process.stop()));
  await clients.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

type Outcome = "admitted" | "refused" | `failed: ${string}`;
type Plane = (instance: Instance, algorithm: Algorithm, burst: string) => Promise<Outcome>;

const gateway: Plane = async ({ process }, algorithm, burst) => {
  const response = await fetch(`${process.url}/api/${algorithm}/users/104`, { headers: { "x-api-key": API_KEY, "x-burst": burst }, dispatcher: clients });
  if (response.status === 200 || response.status === 429) {
    await response.body?.cancel();
    return response.status === 200 ? "admitted" : "refused";
  }
  return failed(response);
};

/** A failure, named by its status and problem code, so a report says which failure it was. */
async function failed(response: Response): Promise<Outcome> {
  const code = await response.json().then((body) => (body as { code?: string }).code, () => undefined);
  return `failed: ${response.status}${code === undefined ? "" : ` ${code}`}`;
}

const ratelimitApi: Plane = async ({ process }, algorithm, burst) => {
  const response = await fetch(`${process.url}/v1/ratelimit`, {
    method: "POST",
    headers: { "authorization": `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ identifier: burst, limit: LIMIT, duration: "1h", algorithm }),
    dispatcher: clients,
  });
  if (response.status !== 200) return failed(response);
  return ((await response.json()) as { allowed: boolean }).allowed ? "admitted" : "refused";
};

const grpc: Plane = ({ rls }, algorithm, burst) =>
  rls.shouldRateLimit({ domain: "pressure", descriptors: [{ entries: [{ key: "algorithm", value: algorithm }, { key: "burst", value: burst }] }] }).then(
    (response): Outcome => (response.overall_code === "OK" ? "admitted" : response.overall_code === "OVER_LIMIT" ? "refused" : `failed: ${String(response.overall_code)}`),
    (error: ServiceError): Outcome => `failed: gRPC ${error.code}`,
  );

/**
 * BURST requests at once on one counter, spread round-robin over `over`; with `freeze`, every
 * instance in use is stopped once half the burst is sent and continued FREEZE_MS later, while
 * the rest of the burst arrives.
 */
async function burst(plane: Plane, over: readonly Instance[], algorithm: Algorithm, freeze: boolean): Promise<Map<Outcome, number>> {
  const id = randomUUID();
  const send = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => plane(over[(from + i) % over.length]!, algorithm, id));
  const first = send(0, BURST / 2);
  let rest: Promise<Outcome>[];
  if (freeze) {
    await delay(5);
    for (const { process } of over) process.child.kill("SIGSTOP");
    rest = send(BURST / 2, BURST);
    await delay(FREEZE_MS);
    for (const { process } of over) process.child.kill("SIGCONT");
  } else {
    rest = send(BURST / 2, BURST);
  }
  const outcomes = new Map<Outcome, number>();
  for (const outcome of await Promise.all([...first, ...rest])) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  return outcomes;
}

const PLANES = [["the gateway", gateway], ["POST /v1/ratelimit", ratelimitApi], ["gRPC ShouldRateLimit", grpc]] as const;

for (const [name, plane] of PLANES) {
  describe(`${name}, a burst of ${BURST} at once on one key with a limit of ${LIMIT}`, () => {
    for (const [count, freeze] of [[1, false], [3, false], [3, true]] as const) {
      const how = `${count === 1 ? "one instance" : "three instances"}${freeze ? `, each frozen for ${FREEZE_MS} ms mid-burst` : ""}`;
      it(`admits exactly ${LIMIT} through ${how}, for every algorithm, and answers nothing else but refusals`, async (t) => {
        for (const algorithm of ALGORITHMS) {
          const outcomes = await burst(plane, instances.slice(0, count), algorithm, freeze);
          t.diagnostic(`${algorithm}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
          assert.deepEqual(Object.fromEntries(outcomes), { admitted: LIMIT, refused: BURST - LIMIT }, algorithm);
        }
      });
    }
  });
}
