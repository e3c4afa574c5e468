/**
 * Whether a string is well-formed Unicode: it holds no lone UTF-16 surrogate. JSON (`"\ud800"`)
 * and protobuf's decoder both hand such strings over, but they have no UTF-8 form, so they can
 * become no counter key (`encodeURIComponent` throws on them) and no text another system reads
 * back the same. The rate-limit service's two edges, the HTTP body's schema and the gRPC request,
 * refuse them with the field's name, before any key is built.
 *
 * @example
 * isWellFormed("user-😀"); // → true
 * isWellFormed("user-\ud800"); // → false
 */

/** In a `u` regex a surrogate pair reads as one code point; only a lone surrogate is of category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** What a refusal says about such a string. */
export const NOT_WELL_FORMED = "not valid Unicode: holds a lone UTF-16 surrogate (\\ud800–\\udfff without its pair)";
