/**
 * The one check protobuf.js skips when it decodes a RateLimitRequest: proto3 strings must be
 * UTF-8, but protobuf.js reads any bytes and turns what is not UTF-8 into U+FFFD. Two descriptor
 * values that differ only in such bytes (a lone surrogate sent from JavaScript, a header's raw
 * bytes forwarded by Envoy) would then count on one counter. This walks the request's wire bytes
 * and names the first string that is not UTF-8, which the server refuses with INVALID_ARGUMENT,
 * as Envoy's own service (Go's protobuf) refuses it.
 *
 * The fields read (numbers as in proto/): RateLimitRequest `domain` = 1 and `descriptors` = 2;
 * RateLimitDescriptor `entries` = 1; Entry `key` = 1 and `value` = 2. Anything else is skipped,
 * and bytes too broken to walk are left to the decoder to refuse.
 *
 * @example
 * firstNonUtf8Field(bytes); // → "descriptors[0].entries[1].value", or undefined when every string is UTF-8
 */
import { isUtf8 } from "node:buffer";

/** Where a decoded request carries the name of its first string that was not UTF-8. */
export const NON_UTF8_FIELD = Symbol("sluice.nonUtf8Field");

export const NOT_UTF8 = "not valid UTF-8 (a lone UTF-16 surrogate, or raw bytes that are not text)";

/** Calls `visit` with each length-delimited field's number and bytes; stops at the first name it returns. */
type Visit = (field: number, bytes: Uint8Array) => string | undefined;

export function firstNonUtf8Field(request: Uint8Array): string | undefined {
  let descriptor = 0;
  return walk(request, (field, bytes) => {
    if (field === 1) return isUtf8(bytes) ? undefined : "domain";
    if (field !== 2) return undefined;
    const d = descriptor++;
    let entry = 0;
    return walk(bytes, (descriptorField, entryBytes) => {
      if (descriptorField !== 1) return undefined;
      const e = entry++;
      return walk(entryBytes, (entryField, text) => {
        if ((entryField !== 1 && entryField !== 2) || isUtf8(text)) return undefined;
        return `descriptors[${d}].entries[${e}].${entryField === 1 ? "key" : "value"}`;
      });
    });
  });
}

/** The protobuf wire format: a varint tag (field << 3 | wire type), then the value. */
function walk(bytes: Uint8Array, visit: Visit): string | undefined {
  let at = 0;
  while (at < bytes.length) {
    const [tag, afterTag] = varint(bytes, at);
    switch (tag % 8) {
      case 0: at = varint(bytes, afterTag)[1]; break;
      case 1: at = afterTag + 8; break;
      case 5: at = afterTag + 4; break;
      case 2: {
        const [length, start] = varint(bytes, afterTag);
        const end = start + length;
        if (end > bytes.length) return undefined;
        const found = visit(Math.floor(tag / 8), bytes.subarray(start, end));
        if (found !== undefined) return found;
        at = end;
        break;
      }
      default: return undefined; // groups, or not protobuf: the decoder refuses it
    }
  }
  return undefined;
}

/** [value, offset after it]; past the end reads as the end (the decoder refuses a truncated message). */
function varint(bytes: Uint8Array, from: number): [number, number] {
  let value = 0;
  let scale = 1;
  let at = from;
  while (at < bytes.length) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
  return [value, bytes.length + 1];
}
