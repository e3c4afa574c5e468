// Sizes in the config file: a positive whole number followed by b, kb, mb or gb (powers of
// 1024). A bare number, zero, a fraction or an unknown unit is refused rather than guessed at.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BYTE_SIZE_PATTERN, parseByteSize } from "../../src/config/byteSize.js";
import { parseConfig } from "../../src/config/loader.js";

describe("parseByteSize", () => {
  for (const [text, bytes] of [["1b", 1], ["512b", 512], ["16kb", 16_384], ["10mb", 10_485_760], ["1gb", 1_073_741_824]] as const) {
    it(`reads "${text}" as ${bytes} bytes`, () => {
      assert.equal(parseByteSize(text), bytes);
    });
  }
  for (const text of ["0kb", "1024", "1.5mb", "10 mb", "10MB", "-1kb", "1tb", "kb"]) {
    it(`refuses "${text}"`, () => {
      assert.doesNotMatch(text, BYTE_SIZE_PATTERN);
      assert.throws(() => parseByteSize(text));
    });
  }
});

describe("size and timeout limits in the config", () => {
  it("has safe defaults", () => {
    const { server } = parseConfig("{}", "sluice.yaml");
    assert.deepEqual(
      { maxBodySize: server.maxBodySize, maxHeaderSize: server.maxHeaderSize, headersTimeout: server.headersTimeout, requestTimeout: server.requestTimeout, idleTimeout: server.idleTimeout, keepAliveTimeout: server.keepAliveTimeout, maxConnections: server.maxConnections },
      { maxBodySize: 10_485_760, maxHeaderSize: 16_384, headersTimeout: 10_000, requestTimeout: 60_000, idleTimeout: 120_000, keepAliveTimeout: 5_000, maxConnections: 10_000 },
    );
  });

  it("reads a service's own body limit", () => {
    const config = parseConfig('services:\n  s: { upstream: "http://127.0.0.1:9000", maxBodySize: 1mb }\n', "sluice.yaml");
    assert.equal(config.services.s?.maxBodySize, 1_048_576);
  });

  it("reads a route's own body limit, and leaves it unset when a route gives none", () => {
    const config = parseConfig('services:\n  s:\n    upstream: "http://127.0.0.1:9000"\n    routes: [{ path: /upload, maxBodySize: 64mb }, { path: /* }]\n', "sluice.yaml");
    assert.deepEqual(config.services.s?.routes?.map((r) => r.maxBodySize), [67_108_864, undefined]);
  });

  it("refuses a route's body limit of zero, naming the route", () => {
    assert.throws(() => parseConfig('services:\n  s:\n    upstream: "http://127.0.0.1:9000"\n    routes: [{ path: /upload, maxBodySize: 0kb }]\n', "sluice.yaml"), /services\.s\.routes\.0\.maxBodySize/);
  });

  it("refuses a headersTimeout longer than the requestTimeout, naming the field", () => {
    assert.throws(() => parseConfig("server:\n  headersTimeout: 2m\n  requestTimeout: 1m\n", "sluice.yaml"), /server\.headersTimeout: headersTimeout cannot be longer than requestTimeout/);
  });

  it("refuses a bare number as a size, naming the field", () => {
    assert.throws(() => parseConfig("server:\n  maxBodySize: 1024\n", "sluice.yaml"), /server\.maxBodySize/);
  });
});
