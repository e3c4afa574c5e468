/**
 * Upstream responses are served from the dashboard's origin: an HTML page or an SVG an upstream
 * returns at /api/… would run its scripts next to /account and /admin/api, with the signed-in
 * person's cookie riding on every call it makes. So the proxy marks what it passes on:
 *
 * - every proxied response carries `X-Content-Type-Options: nosniff`, so a browser never guesses
 *   HTML (or a script) out of JSON or text;
 * - a response whose content type is not one an API answers with (JSON and `+json` types, plain
 *   text, CSV, event streams, binary and the common binary encodings), or that has none, also
 *   carries `Content-Security-Policy: sandbox`: opened in a browser it runs no script, submits no
 *   form and has an origin of its own, so it can reach nothing of the dashboard's.
 *
 * An upstream's own Content-Security-Policy stays: a browser enforces every policy it is given.
 * docs/security.md ("Upstream content and the dashboard's origin") says why this model.
 *
 * @example
 * isApiContentType("application/json; charset=utf-8") // true: nosniff only
 * isApiContentType("text/html")                       // false: sandboxed too
 */

export const NOSNIFF = "nosniff";
export const SANDBOX = "sandbox";

/** Media types (lower case, without parameters) that a browser displays as data, never runs. */
const API_TYPES: ReadonlySet<string> = new Set([
  "application/json",
  "application/x-ndjson",
  "application/octet-stream",
  "application/grpc",
  "application/protobuf",
  "application/x-protobuf",
  "application/cbor",
  "application/msgpack",
  "text/plain",
  "text/csv",
  "text/event-stream",
]);

/** Whether a response of this Content-Type needs no sandbox; a missing type is sniffed, so it does. */
export function isApiContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  // The usual answers, without making a string: a bare type, or JSON with its charset.
  if (API_TYPES.has(contentType) || (contentType.startsWith("application/json") && contentType.charCodeAt(16) === 0x3b /* ; */)) return true;
  const semicolon = contentType.indexOf(";");
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return API_TYPES.has(essence) || (essence.endsWith("+json") && essence.includes("/"));
}
