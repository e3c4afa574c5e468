/**
 * Whether text is well-formed Unicode: it holds no lone UTF-16 surrogate (\ud800–\udfff without
 * its pair). JSON (`"\ud800"`) hands such strings over, but they have no UTF-8 form: no counter
 * key can be built from one (`encodeURIComponent` throws), and PostgreSQL keeps U+FFFD in its
 * place, another string than the one sent. The rate-limit API's body schema
 * (service/decisionRequest.ts) and the control plane's check of every request string
 * (control/storableText.ts) refuse them with NOT_WELL_FORMED, naming the field. (gRPC reads raw
 * bytes, not JavaScript strings, and checks that they are UTF-8: service/grpc/requestText.ts.)
 *
 * @example
 * isWellFormed("user-😀"); // → true
 * isWellFormed("user-\ud800"); // → false
 */

export function isWellFormed(text: string): boolean {
  return text.isWellFormed();
}

/** What a refusal says about a string that is not. */
export const NOT_WELL_FORMED = "contains a lone UTF-16 surrogate (\\ud800–\\udfff without its pair), which is not Unicode text";
