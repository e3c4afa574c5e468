/**
 * Stage 3, authenticate: the `x-api-key` header must name a known consumer. A missing key and a
 * wrong key are both 401 with the same problem type; the detail only says which of the two.
 *
 * Without a key, a GET or HEAD may instead carry a signed-in person's session cookie (the
 * dashboard's playground calls the API that way). Only safe methods: a cookie rides along on
 * requests other sites' pages make, and SameSite=Lax lets it through only on top-level GETs.
 *
 * Guessing is throttled (../invalidKeyThrottle.ts): each refused key or cookie counts against the
 * client address, and an address that has sent too many gets 429 without its credential being
 * looked up; only a key or session memory vouches for (`verifier.known`, `sessions.known`) still
 * passes from it.
 */
import type { ApiKeyVerifier, Consumer } from "../../accounts/consumer.js";
import type { SessionConsumers } from "../../accounts/sessionConsumers.js";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../../accounts/sessions.js";
import { API_KEY_HEADER } from "../../config/headerNames.js";
import { problems } from "../../problems/catalogue.js";
import type { Exchange, Rejection, Stage } from "../exchange.js";
import type { InvalidKeyThrottle } from "../invalidKeyThrottle.js";

const CHALLENGE = { "www-authenticate": `ApiKey header="${API_KEY_HEADER}"` };

const missingKey: Rejection = { kind: problems.unauthorized, detail: `Send your API key in the ${API_KEY_HEADER} header.`, headers: CHALLENGE };
/** Every key that must not pass gets this one answer: unknown, revoked, expired, out of scope. */
export const invalidKey: Rejection = { kind: problems.unauthorized, detail: "The API key is not valid.", headers: CHALLENGE };

export function authenticate(verifier: ApiKeyVerifier, sessions?: SessionConsumers, throttle?: InvalidKeyThrottle): Stage {
  /** The consumer, or `refusal` after counting it against the address. */
  const settle = (exchange: Exchange, consumer: Consumer | undefined, refusal: Rejection): Rejection | undefined | Promise<Rejection> => {
    if (consumer !== undefined) {
      exchange.consumer = consumer;
      return undefined;
    }
    const counted = throttle?.failed(exchange.clientIp);
    // A count the store cannot take changes nothing about this answer.
    return counted instanceof Promise ? counted.then(() => refusal, () => refusal) : refusal;
  };
  return function authenticate(exchange) {
    const key = exchange.req.headers[API_KEY_HEADER];
    const hasKey = typeof key === "string" && key !== "";
    const token = hasKey || sessions === undefined ? undefined : sessionToken(exchange);
    if (!hasKey && token === undefined) return missingKey;
    const wait = throttle?.blockedFor(exchange.clientIp);
    if (wait !== undefined) {
      const known = hasKey ? verifier.known(key) : sessions!.known(token!);
      if (known === undefined) return tooManyInvalidKeys(wait);
      exchange.consumer = known;
      return undefined;
    }
    const refusal = hasKey ? invalidKey : missingKey;
    const consumer = hasKey ? verifier.verify(key) : sessions!.verify(token!);
    return consumer instanceof Promise ? consumer.then((c) => settle(exchange, c, refusal)) : settle(exchange, consumer, refusal);
  };
}

function tooManyInvalidKeys(seconds: number): Rejection {
  return { kind: problems.tooManyInvalidKeys, detail: `This address sent too many invalid API keys; keys from it are not checked for ${seconds}s.`, headers: { "retry-after": String(seconds) } };
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
