// A RateLimitRequest's strings, read from its wire bytes: each string field that is not UTF-8 is
// named by its place in the request, whatever else the message holds, unknown fields and groups
// included; text (an emoji, a real U+FFFD) passes. Bytes the walk cannot read as protobuf.js
// reads them (which would let a string pass unchecked) are refused as unreadable, and no bytes
// make it throw.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadSync } from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS, RLS_PROTO } from "../../../src/service/grpc/rateLimitGrpcServer.js";
import { requestTextProblem } from "../../../src/service/grpc/requestText.js";

// The client's encoder, as Envoy's side of the wire; it writes a lone surrogate as ED A0 80.
// Its decoder is the server's: what protobuf.js makes of the same bytes.
const { ShouldRateLimit } = loadSync(RLS_PROTO, PROTO_LOADER_OPTIONS)["envoy.service.ratelimit.v3.RateLimitService"] as unknown as {
  ShouldRateLimit: { requestSerialize: (request: unknown) => Buffer; requestDeserialize: (bytes: Buffer) => { domain?: string } };
};
const bytes = (request: unknown) => ShouldRateLimit.requestSerialize(request);
const decodedDomain = (wire: Buffer) => ShouldRateLimit.requestDeserialize(wire).domain;

const entry = (key: string, value: string) => ({ key, value });
/** The field a problem names (the words before its colon). */
const namedField = (wire: Uint8Array) => requestTextProblem(wire)?.split(":")[0];

const GOOD = bytes({ domain: "edge", descriptors: [{ entries: [entry("k", "v")] }] });
/** `domain` (field 1, length-delimited) = "a" and the byte 0xFF: protobuf.js reads it as "a\ufffd". */
const BAD_DOMAIN = Buffer.from([0x0a, 2, 0x61, 0xff]);
const UNREADABLE = /^not a RateLimitRequest this service can read: /;

describe("requestTextProblem", () => {
  it("finds nothing in a request of text, emoji and U+FFFD included", () => {
    const request = { domain: "edge", hits_addend: 3, descriptors: [{ entries: [entry("user", "😀 \ufffd é")], hits_addend: { value: 2 } }] };
    assert.equal(requestTextProblem(bytes(request)), undefined);
  });

  it("names the domain, or the key or value of an entry by its place", () => {
    const good = { entries: [entry("a", "b"), entry("c", "d")] };
    assert.equal(requestTextProblem(bytes({ domain: "ed\ud800ge", descriptors: [good] })), "domain: not valid UTF-8 (a lone UTF-16 surrogate, or raw bytes that are not text)");
    assert.equal(namedField(bytes({ domain: "edge", descriptors: [good, { entries: [entry("a", "b"), entry("c", "d\udc00")] }] })), "descriptors[1].entries[1].value");
    assert.equal(namedField(bytes({ domain: "edge", descriptors: [{ entries: [entry("\ud83d", "b")], hits_addend: { value: 1 } }] })), "descriptors[0].entries[0].key");
  });

  it("reads raw bytes that are no text at all (0xFF), not only surrogates", () => {
    const value = Buffer.from([0x61, 0xff]);
    // Entry { key = "k", value = <a, 0xFF> } inside a descriptor inside the request.
    const entryBytes = Buffer.concat([Buffer.from([0x0a, 1, 0x6b, 0x12, value.length]), value]);
    const descriptor = Buffer.concat([Buffer.from([0x0a, entryBytes.length]), entryBytes]);
    const request = Buffer.concat([Buffer.from([0x0a, 1, 0x65, 0x12, descriptor.length]), descriptor]);
    assert.equal(namedField(request), "descriptors[0].entries[0].value");
  });

  it("walks past unknown fields of every wire type, nested groups included, to a bad string behind them", () => {
    const unknown = Buffer.from([
      0x48, 0x96, 0x01, // field 9, varint
      0x51, 1, 2, 3, 4, 5, 6, 7, 8, // field 10, 64-bit
      0x5d, 1, 2, 3, 4, // field 11, 32-bit
      0x62, 2, 0xff, 0xfe, // field 12, length-delimited: not a string of ours, not checked
      0x6b, 0x08, 0x01, 0x73, 0x0a, 1, 0xff, 0x74, 0x6c, // group 13 { varint; group 14 { field 1, 0xFF } }
    ]);
    const request = Buffer.concat([unknown, GOOD, BAD_DOMAIN]);
    assert.equal(decodedDomain(request), "a\ufffd", "protobuf.js skips them all, and reads the domain");
    assert.equal(namedField(request), "domain");
    assert.equal(requestTextProblem(Buffer.concat([unknown, GOOD])), undefined);
  });

  it("refuses as unreadable what protobuf.js would read otherwise, which could hide a string", () => {
    const hidden = [
      // hits_addend (field 3, a uint32) sent length-delimited: protobuf.js reads a varint and then the inside as fields.
      ["a known field with another wire type", Buffer.concat([GOOD, Buffer.from([0x1a, BAD_DOMAIN.length]), BAD_DOMAIN])],
      // A tag of five bytes past 2^32: protobuf.js keeps 32 bits, field 1 (domain).
      ["a tag past 2^32", Buffer.concat([GOOD, Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x10, 2, 0x61, 0xff])])],
      // A length past 2^32: protobuf.js keeps 32 bits, 2.
      ["a length past 2^32", Buffer.concat([GOOD, Buffer.from([0x0a, 0x82, 0x80, 0x80, 0x80, 0x10, 0x61, 0xff])])],
    ] as const;
    for (const [what, request] of hidden) {
      assert.equal(decodedDomain(request), "a\ufffd", `${what}: protobuf.js reads a domain`);
      assert.match(requestTextProblem(request) ?? "", UNREADABLE, what);
    }

    const malformed = [
      ["a group that ends as another", Buffer.concat([Buffer.from([0x6b, 0x74]), GOOD])],
      ["field number 0", Buffer.concat([Buffer.from([0x00, 0x01]), GOOD])],
      ["wire type 7", Buffer.concat([Buffer.from([0x4f]), GOOD])],
      ["a group's end without its start", Buffer.concat([Buffer.from([0x4c]), GOOD])],
      ["a varint longer than 10 bytes", Buffer.concat([Buffer.from([0x48, ...Array<number>(10).fill(0xff), 0x01]), GOOD])],
      ["groups nested past any use", Buffer.concat([Buffer.alloc(40, 0x6b), Buffer.alloc(40, 0x6c), GOOD])],
    ] as const;
    for (const [what, request] of malformed) assert.match(requestTextProblem(request) ?? "", UNREADABLE, what);
  });

  it("never throws, whatever the bytes: a cut message is text, a bad string or unreadable", () => {
    const whole = bytes({ domain: "edge", hits_addend: 1, descriptors: [{ entries: [entry("k", "v\ud800")], hits_addend: { value: 1 } }] });
    for (let cut = 0; cut < whole.length; cut++) {
      const problem = requestTextProblem(whole.subarray(0, cut));
      assert.ok(problem === undefined || problem.startsWith("descriptors[0].entries[0].value:") || UNREADABLE.test(problem), `${cut}: ${problem}`);
    }
  });
});
