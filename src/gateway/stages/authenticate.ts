/**
 * Stage 3, authenticate: the `x-api-key` header must name a known consumer. A missing key and a
 * wrong key are both 401 with the same problem type; the detail only says which of the two.
 *
 * Without a key, a GET or HEAD may instead carry a signed-in person's session cookie (the
 * dashboard's playground calls the API that way). Only safe methods: a cookie rides along on
 * requests other sites' pages make, and SameSite=Lax lets it through only on top-level GETs.
 */
import type { ApiKeyVerifier, Consumer } from "../../accounts/consumer.js";
import type { SessionConsumers } from "../../accounts/sessionConsumers.js";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../../accounts/sessions.js";
import { problems } from "../../problems/catalogue.js";
import type { Exchange, Rejection, Stage } from "../exchange.js";

export const API_KEY_HEADER = "x-api-key";
const CHALLENGE = { "www-authenticate": `ApiKey header="${API_KEY_HEADER}"` };

const missingKey: Rejection = { kind: problems.unauthorized, detail: `Send your API key in the ${API_KEY_HEADER} header.`, headers: CHALLENGE };
/** Every key that must not pass gets this one answer: unknown, revoked, expired, out of scope. */
export const invalidKey: Rejection = { kind: problems.unauthorized, detail: "The API key is not valid.", headers: CHALLENGE };

export function authenticate(verifier: ApiKeyVerifier, sessions?: SessionConsumers): Stage {
  const accept = (exchange: Exchange, consumer: Consumer | undefined): Rejection | undefined => {
    if (consumer === undefined) return invalidKey;
    exchange.consumer = consumer;
    return undefined;
  };
  const signedIn = (exchange: Exchange, consumer: Consumer | undefined): Rejection | undefined => {
    if (consumer === undefined) return missingKey;
    exchange.consumer = consumer;
    return undefined;
  };
  return function authenticate(exchange) {
    const key = exchange.req.headers[API_KEY_HEADER];
    if (typeof key !== "string" || key === "") {
      const token = sessions === undefined ? undefined : sessionToken(exchange);
      if (token === undefined) return missingKey;
      const consumer = sessions!.verify(token);
      return consumer instanceof Promise ? consumer.then((c) => signedIn(exchange, c)) : signedIn(exchange, consumer);
    }
    const consumer = verifier.verify(key);
    return consumer instanceof Promise ? consumer.then((c) => accept(exchange, c)) : accept(exchange, consumer);
  };
}

/** The session cookie of a GET or HEAD, if it carries one. */
function sessionToken(exchange: Exchange): string | undefined {
  const { method, headers } = exchange.req;
  if ((method !== "GET" && method !== "HEAD") || headers.cookie === undefined) return undefined;
  for (const pair of headers.cookie.split(";")) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    if (eq > 0 && (name === SESSION_COOKIE || name === SECURE_SESSION_COOKIE)) return pair.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
