/**
 * Stage 2, authenticate: the `x-api-key` header must name a known consumer. A missing key and a
 * wrong key are both 401 with the same problem type; the detail only says which of the two.
 */
import type { ApiKeyVerifier, Consumer } from "../../accounts/consumer.js";
import { problems } from "../../problems/catalogue.js";
import type { Exchange, Rejection, Stage } from "../exchange.js";

export const API_KEY_HEADER = "x-api-key";
const CHALLENGE = { "www-authenticate": `ApiKey header="${API_KEY_HEADER}"` };

const missingKey: Rejection = { kind: problems.unauthorized, detail: `Send your API key in the ${API_KEY_HEADER} header.`, headers: CHALLENGE };
/** Every key that must not pass gets this one answer: unknown, revoked, expired, out of scope. */
export const invalidKey: Rejection = { kind: problems.unauthorized, detail: "The API key is not valid.", headers: CHALLENGE };

export function authenticate(verifier: ApiKeyVerifier): Stage {
  const accept = (exchange: Exchange, consumer: Consumer | undefined): Rejection | undefined => {
    if (consumer === undefined) return invalidKey;
    exchange.consumer = consumer;
    return undefined;
  };
  return function authenticate(exchange) {
    const key = exchange.req.headers[API_KEY_HEADER];
    if (typeof key !== "string" || key === "") return missingKey;
    const consumer = verifier.verify(key);
    return consumer instanceof Promise ? consumer.then((c) => accept(exchange, c)) : accept(exchange, consumer);
  };
}
