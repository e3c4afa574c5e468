/**
 * Which headers the proxy never copies from one side to the other: those describing one
 * connection rather than the message (RFC 9110 §7.6.1, plus proxy-only ones), and on requests
 * the ones the gateway sets itself, so a client cannot forge them. The config's header
 * rewrites may touch neither kind (schema.ts refuses them); the gateway's proxy drops them
 * (gateway/upstream/forwardedHeaders.ts).
 */

/** The request header an API key travels in. */
export const API_KEY_HEADER = "x-api-key";

export const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);

/**
 * Request headers the gateway sets itself and never takes from the client as they are. `expect`:
 * the gateway answers the client's 100-continue itself (../requestBody.ts), and undici refuses to
 * send one.
 */
export const GATEWAY_OWNED: ReadonlySet<string> = new Set(["host", API_KEY_HEADER, "x-consumer-id", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "expect"]);

export function isReservedHeader(name: string): boolean {
  return HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name);
}
