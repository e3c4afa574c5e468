// Envoy's ShouldRateLimit over real gRPC, against a running Sluice on the memory store and on
// Redis: a @grpc/grpc-js client sends what Envoy sends (a domain, descriptors of key/value
// entries, hits_addend 0 meaning 1), and the answer carries each descriptor's code, current limit,
// remaining units and time until reset, with OVER_LIMIT overall when any descriptor is over.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRequire } from "node:module";
import { Client, credentials, loadPackageDefinition, status, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { parseConfig } from "../../../src/config/loader.js";
import { startServiceSluice, TEST_STORES, type ServiceSluice } from "../../client/serviceSluice.js";
import { envoyRlsClient, type EnvoyRlsClient, type RlsRequest } from "./envoyRlsClient.js";

const YAML = `
policies:
  edge:
    descriptors:
      - key: remote_address
        limit: { algorithm: fixed-window, limit: 2, window: 1m }
      - key: generic_key
        value: api
        descriptors:
          - key: user
            limit: { algorithm: fixed-window, limit: 3, window: 1h }
      - key: generic_key
        value: health
      - key: burst
        limit: { algorithm: fixed-window, limit: 5, window: 30s }
`;

/** What the Envoy route in docs/ratelimit-service.md sends for one request of user u1 from 10.0.0.1. */
function envoyRequest(address: string, user: string): RlsRequest {
  return {
    domain: "edge",
    descriptors: [
      { entries: [{ key: "remote_address", value: address }] },
      { entries: [{ key: "generic_key", value: "api" }, { key: "user", value: user }] },
    ],
    hits_addend: 0,
  };
}

for (const store of TEST_STORES) {
  describe(`ShouldRateLimit over gRPC, ${store} store`, () => {
    let sluice: ServiceSluice;
    let rls: EnvoyRlsClient;
    before(async () => {
      sluice = await startServiceSluice(YAML, store, { grpc: true });
      rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
    });
    after(async () => {
      rls.close();
      await sluice.close();
    });

    it("answers OK per descriptor with its limit in Envoy's units, the units left and the time to reset", async () => {
      const response = await rls.shouldRateLimit(envoyRequest("10.0.0.1", "u1"));
      assert.equal(response.overall_code, "OK");
      assert.equal(response.statuses.length, 2);
      const [address, user] = response.statuses;
      assert.deepEqual(
        { code: address?.code, limit: address?.current_limit, remaining: address?.limit_remaining },
        { code: "OK", limit: { requests_per_unit: 2, unit: "MINUTE", name: "edge.remote_address" }, remaining: 1 },
      );
      assert.deepEqual(
        { code: user?.code, limit: user?.current_limit, remaining: user?.limit_remaining },
        { code: "OK", limit: { requests_per_unit: 3, unit: "HOUR", name: "edge.generic_key=api.user" }, remaining: 2 },
      );
      const resetSeconds = address?.duration_until_reset?.seconds ?? 0;
      assert.ok(resetSeconds > 50 && resetSeconds <= 60, `a fresh one-minute window resets within the minute (${resetSeconds}s)`);
    });

    it("is OVER_LIMIT overall when one descriptor is over, and then consumes from none", async () => {
      await rls.shouldRateLimit(envoyRequest("10.0.0.2", "u2"));
      await rls.shouldRateLimit(envoyRequest("10.0.0.2", "u2"));
      const over = await rls.shouldRateLimit(envoyRequest("10.0.0.2", "u2"));
      assert.equal(over.overall_code, "OVER_LIMIT");
      assert.deepEqual(over.statuses.map((s) => [s.code, s.limit_remaining ?? 0]), [["OVER_LIMIT", 0], ["OK", 1]]);
      assert.ok((over.statuses[0]?.duration_until_reset?.seconds ?? 0) > 0, "an over-limit descriptor says how long until it resets");
      // Asked again: on Redis the failover store now answers from its over-limit cache, which names
      // only the denial; every descriptor still gets its own status.
      const again = await rls.shouldRateLimit(envoyRequest("10.0.0.2", "u2"));
      assert.equal(again.overall_code, "OVER_LIMIT");
      assert.deepEqual(again.statuses.map((s) => [s.code, s.limit_remaining ?? 0, s.current_limit?.name]), [["OVER_LIMIT", 0, "edge.remote_address"], ["OK", 1, "edge.generic_key=api.user"]]);
      // u2 kept its third unit: from another address it is still admitted once.
      const elsewhere = await rls.shouldRateLimit(envoyRequest("10.0.0.3", "u2"));
      assert.equal(elsewhere.overall_code, "OK");
      assert.equal(elsewhere.statuses[1]?.limit_remaining ?? 0, 0);
    });

    it("counts each value of a default rule on its own", async () => {
      const first = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "remote_address", value: "10.1.0.1" }] }] });
      const other = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "remote_address", value: "10.1.0.2" }] }] });
      assert.deepEqual([first.statuses[0]?.limit_remaining, other.statuses[0]?.limit_remaining], [1, 1]);
    });

    it("takes hits_addend units, the descriptor's own over the request's, and states a 30 s window per minute", async () => {
      const descriptor = { entries: [{ key: "burst", value: "b1" }] };
      const three = await rls.shouldRateLimit({ domain: "edge", descriptors: [descriptor], hits_addend: 3 });
      assert.equal(three.statuses[0]?.limit_remaining, 2);
      assert.deepEqual(three.statuses[0]?.current_limit, { requests_per_unit: 10, unit: "MINUTE", name: "edge.burst" });
      const own = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ ...descriptor, hits_addend: { value: 3 } }], hits_addend: 1 });
      assert.equal(own.overall_code, "OVER_LIMIT");
      assert.equal(own.statuses[0]?.limit_remaining ?? 0, 2);
    });

    it("applies a descriptor's limit override as Envoy's reference service does: that many per unit, whatever rule matches, on a counter of its own", async () => {
      const hourly = { entries: [{ key: "remote_address", value: "10.9.0.1" }], limit: { requests_per_unit: 2, unit: "HOUR" } };
      const first = await rls.shouldRateLimit({ domain: "edge", descriptors: [hourly] });
      assert.deepEqual(
        { code: first.statuses[0]?.code, limit: first.statuses[0]?.current_limit, remaining: first.statuses[0]?.limit_remaining },
        { code: "OK", limit: { requests_per_unit: 2, unit: "HOUR", name: "edge:override" }, remaining: 1 },
      );
      // Fixed windows aligned to the clock, as the reference service counts: it resets at the next whole hour.
      const reset = (first.statuses[0]?.duration_until_reset?.seconds ?? 0) + (first.statuses[0]?.duration_until_reset?.nanos ?? 0) / 1e9;
      const toNextHour = 3600 - ((Date.now() / 1000) % 3600);
      const apart = Math.abs(reset - toNextHour);
      assert.ok(apart < 60 || apart > 3540, `resets at the next whole hour (${reset}s, ${toNextHour}s)`);
      await rls.shouldRateLimit({ domain: "edge", descriptors: [hourly] });
      const over = await rls.shouldRateLimit({ domain: "edge", descriptors: [hourly] });
      assert.equal(over.overall_code, "OVER_LIMIT");
      // The configured rule (2 a minute) keeps its own counter for the same address.
      const configured = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: hourly.entries }] });
      assert.deepEqual([configured.overall_code, configured.statuses[0]?.limit_remaining, configured.statuses[0]?.current_limit?.name], ["OK", 1, "edge.remote_address"]);
      // A descriptor no rule matches, and one whose rule has no limit, are limited by their override too.
      const unruled = await rls.shouldRateLimit({
        domain: "edge",
        descriptors: [
          { entries: [{ key: "header_match", value: "override" }], limit: { requests_per_unit: 7, unit: "MONTH" } },
          { entries: [{ key: "generic_key", value: "health" }], limit: { requests_per_unit: 1, unit: "SECOND" } },
        ],
      });
      assert.deepEqual(unruled.statuses.map((s) => [s.code, s.current_limit?.requests_per_unit, s.current_limit?.unit, s.limit_remaining]), [["OK", 7, "MONTH", 6], ["OK", 1, "SECOND", 0]]);
    });

    it("refuses an override it cannot apply exactly (no unit, 0 per unit) with INVALID_ARGUMENT naming the field", async () => {
      const entries = [{ key: "remote_address", value: "10.9.0.2" }];
      for (const [limit, field] of [[{ requests_per_unit: 5 }, "descriptors[0].limit.unit"], [{ unit: "MINUTE" }, "descriptors[0].limit.requests_per_unit"]] as const) {
        await assert.rejects(rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries, limit }] }), (error: { code: number; details: string }) => {
          assert.equal(error.code, status.INVALID_ARGUMENT);
          assert.equal(error.details.split(":")[0], field);
          return true;
        });
      }
    });

    it("answers OK without a limit for a rule without one and for a descriptor no rule matches", async () => {
      const response = await rls.shouldRateLimit({
        domain: "edge",
        descriptors: [{ entries: [{ key: "generic_key", value: "health" }] }, { entries: [{ key: "header_match", value: "x" }] }],
      });
      assert.equal(response.overall_code, "OK");
      for (const s of response.statuses) {
        assert.equal(s.code, "OK");
        assert.equal(s.current_limit, undefined);
      }
    });

    it("refuses an unknown domain (NOT_FOUND) and a request without descriptors (INVALID_ARGUMENT), naming the problem", async () => {
      await assert.rejects(rls.shouldRateLimit({ domain: "nope", descriptors: [{ entries: [{ key: "remote_address", value: "1" }] }] }), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.NOT_FOUND);
        assert.match(error.details, /no policy named "nope"; configured policies: edge/);
        return true;
      });
      await assert.rejects(rls.shouldRateLimit({ domain: "edge", descriptors: [] }), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.details, /descriptors: at least one descriptor/);
        return true;
      });
      await assert.rejects(rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "", value: "x" }] }] }), { code: status.INVALID_ARGUMENT });
    });

    it("refuses a string that is not UTF-8 (a lone surrogate) with INVALID_ARGUMENT naming it, instead of counting it as U+FFFD", async () => {
      // protobuf.js writes a lone surrogate as the bytes ED A0 80, which are not UTF-8; read back,
      // "a\ud800" and "a\udbff" would both be "a\ufffd\ufffd\ufffd", one counter for two callers.
      const refusals = [
        [{ domain: "edge", descriptors: [{ entries: [{ key: "remote_address", value: "a\ud800" }] }] }, "descriptors[0].entries[0].value"],
        [{ domain: "edge", descriptors: [{ entries: [{ key: "burst", value: "ok" }] }, { entries: [{ key: "generic_key", value: "api" }, { key: "us\udc00er", value: "u" }] }] }, "descriptors[1].entries[1].key"],
        [{ domain: "ed\ud800ge", descriptors: [{ entries: [{ key: "remote_address", value: "a" }] }] }, "domain"],
      ] as const;
      for (const [request, field] of refusals) {
        await assert.rejects(rls.shouldRateLimit(request), (error: { code: number; details: string }) => {
          assert.equal(error.code, status.INVALID_ARGUMENT, field);
          assert.equal(error.details.split(":")[0], field);
          return true;
        });
      }
      const pair = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "remote_address", value: "\ud83d\ude00 \ufffd" }] }] });
      assert.equal(pair.overall_code, "OK", "a surrogate pair (an emoji) and a real U+FFFD are text");
    });

    it("finds a bad string behind a group, and refuses bytes that could hide one from the check", async () => {
      // Raw bytes, as no encoder writes them: a request, an unknown group 13, then a domain "a", 0xFF.
      const request = Buffer.from([0x0a, 4, ...Buffer.from("edge"), 0x12, 7, 0x0a, 5, 0x0a, 1, 0x6b, 0x12, 0]);
      const afterGroup = Buffer.concat([Buffer.from([0x6b, 0x08, 0x01, 0x6c]), request, Buffer.from([0x0a, 2, 0x61, 0xff])]);
      // hits_addend (field 3, a uint32) sent length-delimited, with that domain inside.
      const inHitsAddend = Buffer.concat([request, Buffer.from([0x1a, 4, 0x0a, 2, 0x61, 0xff])]);
      const raw = new Client(`127.0.0.1:${sluice.grpcPort}`, credentials.createInsecure());
      try {
        for (const [bytes, details] of [[afterGroup, /^domain: not valid UTF-8/], [inHitsAddend, /^not a RateLimitRequest this service can read: field 3 has wire type 2/]] as const) {
          const error = await new Promise<ServiceError | null>((resolve) => {
            raw.makeUnaryRequest("/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit", (b: Buffer) => b, (b: Buffer) => b, bytes, (e) => resolve(e));
          });
          assert.equal(error?.code, status.INVALID_ARGUMENT);
          assert.match(error.details, details);
        }
      } finally {
        raw.close();
      }
    });
  });
}

describe("several Sluice instances sharing one Redis", () => {
  it("admit exactly the limit between them over gRPC", async () => {
    const first = await startServiceSluice(YAML, "redis", { grpc: true });
    const second = await startServiceSluice(YAML, "redis", { grpc: true, keyPrefix: first.keyPrefix! });
    const clients = [envoyRlsClient(`127.0.0.1:${first.grpcPort}`), envoyRlsClient(`127.0.0.1:${second.grpcPort}`)];
    try {
      const request: RlsRequest = { domain: "edge", descriptors: [{ entries: [{ key: "burst", value: "shared" }] }] };
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => clients[i % 2]!.shouldRateLimit(request)));
      assert.equal(answers.filter((a) => a.overall_code === "OK").length, 5);
      assert.equal(answers.filter((a) => a.overall_code === "OVER_LIMIT").length, 7);
    } finally {
      for (const client of clients) client.close();
      await Promise.all([first.close(), second.close()]);
    }
  });
});

/** A stock reflection client (grpcurl's protocol): @grpc/grpc-js on the reflection.proto @grpc/reflection ships. */
type ReflectionResponse = Record<string, { service?: { name: string }[]; file_descriptor_proto?: Buffer[]; error_code?: number }>;

function reflectionClient(address: string): { ask(request: Record<string, string>): Promise<ReflectionResponse>; close(): void } {
  const proto = createRequire(import.meta.url).resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
  const loaded = loadPackageDefinition(loadSync(proto, { keepCase: true, oneofs: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & { ServerReflectionInfo(): ClientDuplexStream<object, ReflectionResponse> } } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  return {
    ask: (request) => new Promise((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.once("data", (response: ReflectionResponse) => {
        resolve(response);
        stream.end();
      });
      stream.once("error", reject);
      stream.write(request);
    }),
    close: () => client.close(),
  };
}

describe("server reflection on the gRPC port", () => {
  it("lists the rate-limit and health services and describes ShouldRateLimit, the override included, to a client without our proto files", async () => {
    const sluice = await startServiceSluice(YAML, "memory", { grpc: true });
    const reflection = reflectionClient(`127.0.0.1:${sluice.grpcPort}`);
    try {
      const listed = await reflection.ask({ list_services: "*" });
      assert.deepEqual(listed["list_services_response"]?.service?.map((s) => s.name).sort(), ["envoy.service.ratelimit.v3.RateLimitService", "grpc.health.v1.Health"]);
      const described = await reflection.ask({ file_containing_symbol: "envoy.service.ratelimit.v3.RateLimitService" });
      const files = Buffer.concat(described["file_descriptor_response"]?.file_descriptor_proto ?? []).toString("latin1");
      for (const name of ["ShouldRateLimit", "RateLimitRequest", "RateLimitOverride", "requests_per_unit", "RateLimitUnit", "hits_addend"]) {
        assert.ok(files.includes(name), `the descriptors name ${name}`);
      }
      const unknown = await reflection.ask({ file_containing_symbol: "no.such.Service" });
      assert.equal(unknown["error_response"]?.error_code, status.NOT_FOUND);
    } finally {
      reflection.close();
      await sluice.close();
    }
  });
});

describe("the gRPC service's place in Sluice", () => {
  it("is off unless server.grpcPort is set", async () => {
    const sluice = await startServiceSluice(YAML, "memory");
    try {
      assert.equal(sluice.grpcPort, undefined);
    } finally {
      await sluice.close();
    }
  });

  it("answers from the same policies as /v1/ratelimit, before and after a config reload", async () => {
    const yaml = (limit: number) => `policies:\n  edge:\n    descriptors:\n      - { key: user, limit: { algorithm: fixed-window, limit: ${limit}, window: 1m } }\n`;
    const sluice = await startServiceSluice(yaml(5), "memory", { grpc: true });
    const rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
    const limits = async (user: string) => {
      const grpc = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "user", value: user }] }] });
      const http = await fetch(`${sluice.url}/v1/ratelimit`, {
        method: "POST",
        headers: { authorization: `Bearer ${sluice.token}`, "content-type": "application/json" },
        body: JSON.stringify({ policy: "edge", descriptor: [{ key: "user", value: user }] }),
      });
      return [grpc.statuses[0]?.current_limit?.requests_per_unit, ((await http.json()) as { limit: number }).limit];
    };
    try {
      assert.deepEqual(await limits("before"), [5, 5]);
      const edited = parseConfig(yaml(6), "test.yaml");
      await sluice.reload({ ...edited, server: { ...edited.server, host: "127.0.0.1", port: 0 } });
      const [grpc, http] = await limits("after");
      assert.equal(grpc, http, "a reload applies to both the same way");
    } finally {
      rls.close();
      await sluice.close();
    }
  });
});
