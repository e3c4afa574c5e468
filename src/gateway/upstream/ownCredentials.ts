/**
 * Sluice's own credentials never leave it for an upstream, and no upstream sets them in a
 * browser. An upstream (or anyone reading its logs) that received the dashboard's session cookie
 * could replay it against /account and /admin/api; one that could set it could sign a browser in
 * as someone else. So, on the way up, the `Cookie` header loses Sluice's cookies (other cookies
 * pass as they were) and an `Authorization` header carrying one of Sluice's secrets is dropped;
 * on the way down, a `Set-Cookie` naming one of Sluice's cookies is dropped.
 *
 * Sluice's cookies are the names in SLUICE_COOKIE_NAMES, also with the `__Host-` or `__Secure-`
 * prefix, in any case. Its Bearer secrets are the admin token, the API key the request was
 * authenticated with, and anything shaped like a key or token Sluice makes (`sk_` or `st_` and
 * 32 base62 characters). `x-api-key` itself is a header the gateway owns (config/headerNames.ts).
 *
 * The common request carries none of them: a Cookie header that does not mention a Sluice
 * cookie is returned as it is, without a string made, and a Set-Cookie costs one test.
 *
 * @example
 * withoutOwnCookies("theme=dark; sluice_session=abc") // "theme=dark"
 * setsOwnCookie("__Host-sluice_session=x; Path=/")    // true
 */
import { SLUICE_COOKIE_NAMES } from "../../accounts/sessions.js";
import { sameSecret } from "../../accounts/bearerToken.js";

/** Every spelling under which a browser may hold one of Sluice's cookies, lower-cased. */
const OWN_COOKIES: ReadonlySet<string> = new Set(SLUICE_COOKIE_NAMES.flatMap((name) => [name, `__host-${name}`, `__secure-${name}`].map((n) => n.toLowerCase())));
/** Whether a header mentions one of the names at all: the cheap test before any parsing. */
const MENTIONS_OWN_COOKIE = new RegExp(SLUICE_COOKIE_NAMES.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "i");

/**
 * The Cookie header without Sluice's cookies; undefined when none is left. Pairs are separated
 * by ";" (browsers send "; "); the kept ones are joined with "; ", each as it was sent.
 */
export function withoutOwnCookies(cookie: string): string | undefined {
  if (!MENTIONS_OWN_COOKIE.test(cookie)) return cookie;
  let kept: string | undefined;
  for (const pair of cookie.split(";")) {
    const trimmed = pair.trim();
    if (trimmed === "" || OWN_COOKIES.has(cookieName(trimmed))) continue;
    kept = kept === undefined ? trimmed : `${kept}; ${trimmed}`;
  }
  return kept;
}

/** Whether a Set-Cookie value sets (or clears) one of Sluice's cookies. */
export function setsOwnCookie(setCookie: string): boolean {
  if (!MENTIONS_OWN_COOKIE.test(setCookie)) return false;
  const end = setCookie.indexOf(";");
  return OWN_COOKIES.has(cookieName(end === -1 ? setCookie : setCookie.slice(0, end)));
}

/**
 * The name of a `name=value` pair, lower-cased. Leading "=" are skipped: a browser keeps
 * `Set-Cookie: =sluice_session=x` as a nameless cookie and sends it back as `sluice_session=x`.
 */
function cookieName(pair: string): string {
  let start = 0;
  while (start < pair.length && (pair.charCodeAt(start) === 0x3d /* = */ || pair.charCodeAt(start) <= 0x20)) start++;
  const eq = pair.indexOf("=", start);
  return (eq === -1 ? pair.slice(start) : pair.slice(start, eq)).trim().toLowerCase();
}

const BEARER = "bearer ";
/** The shape of Sluice's API keys (accounts/apiKeys.ts) and service tokens (service/serviceTokens.ts). */
const MINTED_SECRET = /^s[kt]_[0-9A-Za-z]{32}$/;
const MINTED_LENGTH = 35;

/**
 * Whether an Authorization header carries one of Sluice's secrets as a Bearer token: the admin
 * token, the request's own API key (`apiKey`), or a key or service token Sluice made.
 */
export function carriesOwnSecret(authorization: string, apiKey: string | string[] | undefined, adminToken: string | undefined): boolean {
  if (authorization.length <= BEARER.length || authorization.slice(0, BEARER.length).toLowerCase() !== BEARER) return false;
  const token = authorization.slice(BEARER.length).trim();
  if (token.length === MINTED_LENGTH && MINTED_SECRET.test(token)) return true;
  if (token === apiKey) return true;
  // Only a token of the admin token's length is hashed: the usual Bearer (a JWT) costs no hash.
  return adminToken !== undefined && token.length === adminToken.length && sameSecret(token, adminToken);
}
