/**
 * The one check protobuf.js skips when it decodes a RateLimitRequest: proto3 strings must be
 * UTF-8, but protobuf.js reads any bytes and turns what is not UTF-8 into U+FFFD. Two descriptor
 * values that differ only in such bytes (a lone surrogate sent from JavaScript, a header's raw
 * bytes forwarded by Envoy) would then count on one counter. This walks the request's wire bytes
 * and names the first string that is not UTF-8, which the server refuses with INVALID_ARGUMENT,
 * as Envoy's own service (Go's protobuf) refuses it.
 *
 * The fields read (numbers as in proto/): RateLimitRequest `domain` = 1, `descriptors` = 2 and
 * `hits_addend` = 3; RateLimitDescriptor `entries` = 1, `limit` = 2 (holds no string: its bytes are
 * not walked) and `hits_addend` = 3; Entry `key` = 1 and `value` = 2. Other fields are skipped,
 * groups (wire types 3 and 4) included.
 *
 * The walk must read the bytes as protobuf.js does, or a string could pass unchecked: protobuf.js
 * reads a known field by its declared type whatever wire type its tag says (a `hits_addend` sent
 * length-delimited has its bytes read as further fields), and reads tags and lengths as 32-bit
 * varints of at most five bytes' worth. So the walk refuses, as unreadable, what it cannot read
 * the same way: a known field with another wire type, a tag, length or 32-bit value longer than
 * five bytes or past 2³², field number 0, a group that does not end as it began or nests too
 * deep, an unknown wire type, anything past the end. Envoy's encoder writes none of these.
 *
 * @example
 * requestTextProblem(bytes); // → "descriptors[0].entries[1].value: not valid UTF-8 (…)", or undefined when every string is UTF-8
 */
import { isUtf8 } from "node:buffer";

/** Where a decoded request carries what is wrong with its strings: the words of the INVALID_ARGUMENT. */
export const TEXT_PROBLEM = Symbol("sluice.textProblem");

const NOT_UTF8 = "not valid UTF-8 (a lone UTF-16 surrogate, or raw bytes that are not text)";

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const GROUP_START = 3;
const GROUP_END = 4;
const I32 = 5;

/** Each message's known fields and their wire types, as proto/ declares them. */
const REQUEST_FIELDS = new Map([[1, LEN], [2, LEN], [3, VARINT]]);
const DESCRIPTOR_FIELDS = new Map([[1, LEN], [2, LEN], [3, LEN]]);
const ENTRY_FIELDS = new Map([[1, LEN], [2, LEN]]);

/** Deepest nesting of groups walked; protobuf.js refuses past 100, Envoy sends none. */
const MAX_GROUP_DEPTH = 32;

/** The request's bytes cannot be read as protobuf.js reads them; `message` says where. */
class Unreadable extends Error {}

/** Calls `visit` with each length-delimited known field's number and bytes; stops at the first name it returns. */
type Visit = (field: number, bytes: Uint8Array) => string | undefined;

/** What the server refuses in `request`'s strings, in INVALID_ARGUMENT's words; undefined when they are all UTF-8. */
export function requestTextProblem(request: Uint8Array): string | undefined {
  try {
    const field = firstNonUtf8Field(request);
    return field === undefined ? undefined : `${field}: ${NOT_UTF8}`;
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    return `not a RateLimitRequest this service can read: ${error.message}`;
  }
}

function firstNonUtf8Field(request: Uint8Array): string | undefined {
  let descriptor = 0;
  return walk(request, REQUEST_FIELDS, (field, bytes) => {
    if (field === 1) return isUtf8(bytes) ? undefined : "domain";
    if (field !== 2) return undefined;
    const d = descriptor++;
    let entry = 0;
    return walk(bytes, DESCRIPTOR_FIELDS, (descriptorField, entryBytes) => {
      if (descriptorField !== 1) return undefined;
      const e = entry++;
      return walk(entryBytes, ENTRY_FIELDS, (entryField, text) => {
        if (isUtf8(text)) return undefined;
        return `descriptors[${d}].entries[${e}].${entryField === 1 ? "key" : "value"}`;
      });
    });
  });
}

/** The protobuf wire format: a varint tag (field << 3 | wire type), then the value. */
function walk(bytes: Uint8Array, known: ReadonlyMap<number, number>, visit: Visit): string | undefined {
  let at = 0;
  while (at < bytes.length) {
    const [field, wireType, afterTag] = tag(bytes, at);
    const declared = known.get(field);
    if (declared === undefined) {
      at = skip(bytes, afterTag, field, wireType, 0);
      continue;
    }
    if (wireType !== declared) throw new Unreadable(`field ${field} has wire type ${wireType}, where ${declared} is declared`);
    if (wireType === VARINT) {
      at = uint32(bytes, afterTag)[1];
      continue;
    }
    const [start, end] = lengthDelimited(bytes, afterTag);
    const found = visit(field, bytes.subarray(start, end));
    if (found !== undefined) return found;
    at = end;
  }
  return undefined;
}

/** The offset after an unknown field's value. */
function skip(bytes: Uint8Array, at: number, field: number, wireType: number, depth: number): number {
  switch (wireType) {
    case VARINT: return varintEnd(bytes, at);
    case I64: return within(bytes, at + 8);
    case I32: return within(bytes, at + 4);
    case LEN: return lengthDelimited(bytes, at)[1];
    case GROUP_START: {
      if (depth >= MAX_GROUP_DEPTH) throw new Unreadable(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
      let next = at;
      for (;;) {
        const [inner, innerType, afterTag] = tag(bytes, next);
        if (innerType === GROUP_END) {
          if (inner !== field) throw new Unreadable(`group ${field} ends as group ${inner}`);
          return afterTag;
        }
        next = skip(bytes, afterTag, inner, innerType, depth + 1);
      }
    }
    default: throw new Unreadable(`field ${field} has wire type ${wireType}`);
  }
}

/** [field, wire type, offset after the tag]. */
function tag(bytes: Uint8Array, at: number): [number, number, number] {
  const [value, after] = uint32(bytes, at);
  if (value < 8) throw new Unreadable(`field number 0 at byte ${at}`);
  return [Math.floor(value / 8), value % 8, after];
}

/** [start, end] of a length-delimited value whose length is at `at`. */
function lengthDelimited(bytes: Uint8Array, at: number): [number, number] {
  const [length, start] = uint32(bytes, at);
  return [start, within(bytes, start + length)];
}

/** [value, offset after it] of a varint protobuf.js reads as 32 bits: tags, lengths, uint32 fields. */
function uint32(bytes: Uint8Array, from: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const byte = bytes[from + i];
    if (byte === undefined) throw new Unreadable(`a varint runs past the end at byte ${from}`);
    value += (byte & 0x7f) * 128 ** i;
    if (byte < 0x80) {
      if (value >= 2 ** 32) break;
      return [value, from + i + 1];
    }
  }
  throw new Unreadable(`a 32-bit varint longer than 5 bytes or past 2^32 at byte ${from}`);
}

/** The offset after a varint of up to 10 bytes (64 bits), which protobuf.js skips. */
function varintEnd(bytes: Uint8Array, from: number): number {
  for (let at = from; at < from + 10; at++) {
    const byte = bytes[at];
    if (byte === undefined) break;
    if (byte < 0x80) return at + 1;
  }
  throw new Unreadable(`a varint longer than 10 bytes, or past the end, at byte ${from}`);
}

/** `end`, when the message holds it. */
function within(bytes: Uint8Array, end: number): number {
  if (end > bytes.length) throw new Unreadable("a field runs past the end of its message");
  return end;
}
