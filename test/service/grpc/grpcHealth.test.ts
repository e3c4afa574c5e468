// The standard gRPC health service on the rate-limit port, asked by a stock @grpc/grpc-js client
// built from grpc-health-check's health.proto, as Kubernetes' gRPC probes and Envoy ask it: its
// status follows readiness (what /readyz says), and the shutdown's drain makes it NOT_SERVING.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { credentials, makeClientConstructor, status, type Client, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { compilePolicyBook } from "../../../src/service/descriptorPolicies.js";
import { RLS_SERVICE, startRateLimitGrpcServer, type RunningRateLimitGrpc } from "../../../src/service/grpc/rateLimitGrpcServer.js";
import { createLogger } from "../../../src/observability/logger.js";
import { MemoryStore } from "../../../src/stores/memoryStore.js";
import { startServiceSluice } from "../../client/serviceSluice.js";

type Status = "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" | "UNKNOWN";

interface HealthClient extends Client {
  check(request: { service: string }, callback: (error: ServiceError | null, response: { status: Status }) => void): void;
  watch(request: { service: string }): ClientReadableStream<{ status: Status }>;
}

const HealthClient = makeClientConstructor(healthService, "grpc.health.v1.Health") as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

function check(client: HealthClient, service: string): Promise<Status> {
  return new Promise((resolve, reject) => client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))));
}

describe("the gRPC health service", () => {
  let ready = true;
  let readinessAsked = 0;
  let rls: RunningRateLimitGrpc;
  let client: HealthClient;
  before(async () => {
    rls = await startRateLimitGrpcServer({
      host: "127.0.0.1",
      port: 0,
      policies: () => compilePolicyBook({}),
      authenticate: () => undefined,
      tokenSettings: () => ({ requireScope: false, grpc: "required" }),
      store: new MemoryStore(),
      logger: createLogger("silent"),
      ready: () => {
        readinessAsked++;
        return Promise.resolve(ready);
      },
    });
    client = new HealthClient(`127.0.0.1:${rls.port}`, credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await rls.close();
  });

  it("answers SERVING for the server and for the rate-limit service while ready, without a token even where ShouldRateLimit needs one", async () => {
    assert.equal(await check(client, ""), "SERVING");
    assert.equal(await check(client, RLS_SERVICE), "SERVING");
  });

  it("asks readiness at every Check, so NOT_SERVING follows /readyz's answer both ways", async () => {
    const asked = readinessAsked;
    ready = false;
    assert.equal(await check(client, ""), "NOT_SERVING");
    assert.equal(await check(client, RLS_SERVICE), "NOT_SERVING");
    ready = true;
    assert.equal(await check(client, ""), "SERVING");
    assert.equal(readinessAsked - asked, 3);
  });

  it("refuses a service it does not report with NOT_FOUND", async () => {
    await assert.rejects(check(client, "some.Other"), { code: status.NOT_FOUND });
  });

  it("tells a Watch stream of each change, and NOT_SERVING from the drain on, whatever readiness says", async () => {
    const watch = client.watch({ service: "" });
    const seen: Status[] = [];
    let waiting: { count: number; resolve: () => void } | undefined;
    watch.on("data", (message: { status: Status }) => {
      seen.push(message.status);
      if (waiting !== undefined && seen.length >= waiting.count) waiting.resolve();
    });
    watch.on("error", () => undefined); // the cancel at the end
    /** Resolves once `count` statuses have arrived in all. */
    const next = (count: number) => new Promise<void>((resolve) => {
      if (seen.length >= count) resolve();
      else waiting = { count, resolve };
    });
    await next(1);
    ready = false;
    const changed = next(2);
    await check(client, RLS_SERVICE); // a Check brings the status up to date for every watcher
    await changed;
    ready = true;
    await check(client, "");
    await check(client, ""); // unchanged: the watcher is not told again
    await next(3);
    const drained = next(4);
    rls.drain();
    await drained;
    assert.deepEqual(seen, ["SERVING", "NOT_SERVING", "SERVING", "NOT_SERVING"]);
    watch.cancel();
  });
});

describe("the gRPC health service in a running Sluice", () => {
  it("says NOT_SERVING as soon as the shutdown begins, while /readyz says shutting down", async () => {
    const yaml = "server:\n  drainDelay: 5s\npolicies:\n  edge:\n    descriptors:\n      - { key: user, limit: { limit: 5, window: 1m } }\n";
    const sluice = await startServiceSluice(yaml, "memory", { grpc: true });
    const client = new HealthClient(`127.0.0.1:${sluice.grpcPort}`, credentials.createInsecure());
    try {
      assert.equal(await check(client, ""), "SERVING");
      const closed = sluice.close();
      // drainDelay keeps the listeners open while readiness says no: a probe learns it first.
      assert.equal((await fetch(`${sluice.url}/readyz`)).status, 503);
      assert.equal(await check(client, ""), "NOT_SERVING");
      assert.equal(await check(client, RLS_SERVICE), "NOT_SERVING");
      await closed;
    } finally {
      client.close();
    }
  });
});
