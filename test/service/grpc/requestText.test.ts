// A RateLimitRequest's strings, read from its wire bytes: each string field that is not UTF-8 is
// named by its place in the request, whatever else the message holds; text (an emoji, a real
// U+FFFD) passes; bytes too broken to walk are left to the decoder.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadSync } from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS, RLS_PROTO } from "../../../src/service/grpc/rateLimitGrpcServer.js";
import { firstNonUtf8Field } from "../../../src/service/grpc/requestText.js";

// The client's encoder, as Envoy's side of the wire; it writes a lone surrogate as ED A0 80.
const { ShouldRateLimit } = loadSync(RLS_PROTO, PROTO_LOADER_OPTIONS)["envoy.service.ratelimit.v3.RateLimitService"] as unknown as {
  ShouldRateLimit: { requestSerialize: (request: unknown) => Buffer };
};
const bytes = (request: unknown) => ShouldRateLimit.requestSerialize(request);

const entry = (key: string, value: string) => ({ key, value });

describe("firstNonUtf8Field", () => {
  it("finds nothing in a request of text, emoji and U+FFFD included", () => {
    const request = { domain: "edge", hits_addend: 3, descriptors: [{ entries: [entry("user", "😀 \ufffd é")], hits_addend: { value: 2 } }] };
    assert.equal(firstNonUtf8Field(bytes(request)), undefined);
  });

  it("names the domain, or the key or value of an entry by its place", () => {
    const good = { entries: [entry("a", "b"), entry("c", "d")] };
    assert.equal(firstNonUtf8Field(bytes({ domain: "ed\ud800ge", descriptors: [good] })), "domain");
    assert.equal(firstNonUtf8Field(bytes({ domain: "edge", descriptors: [good, { entries: [entry("a", "b"), entry("c", "d\udc00")] }] })), "descriptors[1].entries[1].value");
    assert.equal(firstNonUtf8Field(bytes({ domain: "edge", descriptors: [{ entries: [entry("\ud83d", "b")], hits_addend: { value: 1 } }] })), "descriptors[0].entries[0].key");
  });

  it("reads raw bytes that are no text at all (0xFF), not only surrogates", () => {
    const value = Buffer.from([0x61, 0xff]);
    // Entry { key = "k", value = <a, 0xFF> } inside a descriptor inside the request.
    const entryBytes = Buffer.concat([Buffer.from([0x0a, 1, 0x6b, 0x12, value.length]), value]);
    const descriptor = Buffer.concat([Buffer.from([0x0a, entryBytes.length]), entryBytes]);
    const request = Buffer.concat([Buffer.from([0x0a, 1, 0x65, 0x12, descriptor.length]), descriptor]);
    assert.equal(firstNonUtf8Field(request), "descriptors[0].entries[0].value");
  });

  it("leaves a truncated or malformed message to the decoder instead of throwing", () => {
    const whole = bytes({ domain: "edge", descriptors: [{ entries: [entry("k", "v\ud800")] }] });
    for (let cut = 0; cut < whole.length; cut++) assert.doesNotThrow(() => firstNonUtf8Field(whole.subarray(0, cut)));
    assert.equal(firstNonUtf8Field(Buffer.from([0x0b, 0xff, 0xff])), undefined, "a group (wire type 3) is not walked");
  });
});
