/**
 * The one spelling of a request path that the gateway routes on and forwards, so that what was
 * authorized is what the upstream receives. `normalizePath` either returns that spelling or
 * refuses the path (undefined → 400 bad-path); the route stage calls it before anything else.
 *
 * Rules (docs/security.md, "Hardening", says why):
 * - the path starts with "/" and holds only RFC 3986 path characters: letters, digits,
 *   `- . _ ~ ! $ & ' ( ) * + , ; = : @ /` and `%XX`; anything else (space, control characters,
 *   `\`, `#`, `"`, `<`, `>`, `[`, `]`, `{`, `}`, `|`, `^`, backtick, bytes above 0x7F) is refused;
 * - a `.` or `..` segment, also before `;` (`..;/`), is refused, never resolved;
 * - a `%` must start two hex digits; `%2E` (.), `%2F` (/), `%5C` (\), `%3B` (;), `%25` (%:
 *   double encoding) and encoded control characters (`%00`–`%1F`, `%7F`) are refused;
 * - encoded letters, digits, `-`, `_` and `~` are decoded (`%61dmin` → `admin`), other escapes
 *   keep their encoding with upper-case hex (`%c3%a9` → `%C3%A9`);
 * - empty segments collapse (`/a//b` → `/a/b`).
 *
 * One pass of charCodeAt over the path and a table lookup per character; a path that needs no
 * change (nearly all of them) is returned as is, without allocating.
 *
 * Routes are matched on `routingPath` (the same path without `;` parameters), and a `param:`
 * limit counts by one spelling of a segment's value (limits/limitKeys.ts), so no spelling of one
 * path gets counters of its own.
 *
 * @example
 * normalizePath("/api/shop//items/%7euser") // "/api/shop/items/~user"
 * normalizePath("/api/shop/%2e%2e/admin")   // undefined
 */

const SLASH = 0x2f;
const DOT = 0x2e;

/** What each ASCII character is to the scan; the common case, a plain path character, is one lookup. */
const NOT_ALLOWED = 0;
const PLAIN = 1;
const SEPARATOR = 2;
const ESCAPE = 3;
const PARAMETER = 4;
const CHAR_CLASS = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@") CHAR_CLASS[c.charCodeAt(0)] = PLAIN;
CHAR_CLASS[SLASH] = SEPARATOR;
CHAR_CLASS[0x25] = ESCAPE; // %
CHAR_CLASS[0x3b] = PARAMETER; // ;

/** What a decoded escape does: keep it (upper-cased), decode it (an unreserved character), or refuse the path. */
const KEEP = 0;
const DECODE = 1;
const REFUSE = 2;
const ESCAPE_ACTION = new Uint8Array(256);
for (let byte = 0; byte < 256; byte++) {
  const c = String.fromCharCode(byte);
  if (byte < 0x20 || byte === 0x7f || c === "." || c === "/" || c === "\\" || c === "%" || c === ";") ESCAPE_ACTION[byte] = REFUSE;
  else if (/[A-Za-z0-9_~-]/.test(c)) ESCAPE_ACTION[byte] = DECODE;
  else ESCAPE_ACTION[byte] = KEEP;
}

const HEX_DIGITS = "0123456789ABCDEF";

/** The normalized path, or undefined when the path is refused. `path` excludes the query. */
export function normalizePath(path: string): string | undefined {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== SLASH) return undefined;
  let out = ""; // the normalized path up to `copiedTo`, once a change was needed
  let copiedTo = 0; // path[copiedTo..] is not in `out` yet
  let segmentStart = 1;
  let segmentEnd = -1; // where the current segment's name ends: its first ";", or -1 until seen
  for (let i = 1; i < length; i++) {
    const c = path.charCodeAt(i);
    const kind = c < 128 ? CHAR_CLASS[c] : NOT_ALLOWED;
    if (kind === PLAIN) continue;
    if (kind === SEPARATOR) {
      if (isDotSegment(path, segmentStart, segmentEnd === -1 ? i : segmentEnd)) return undefined;
      if (i === segmentStart) { // an empty segment: drop this slash
        out += path.slice(copiedTo, i);
        copiedTo = i + 1;
      }
      segmentStart = i + 1;
      segmentEnd = -1;
    } else if (kind === ESCAPE) {
      const byte = i + 2 < length ? hexValue(path.charCodeAt(i + 1)) * 16 + hexValue(path.charCodeAt(i + 2)) : -1;
      if (byte < 0) return undefined;
      const action = ESCAPE_ACTION[byte];
      if (action === REFUSE) return undefined;
      if (action === DECODE) {
        out += path.slice(copiedTo, i) + String.fromCharCode(byte);
        copiedTo = i + 3;
      } else if (isLowerHex(path.charCodeAt(i + 1)) || isLowerHex(path.charCodeAt(i + 2))) {
        out += path.slice(copiedTo, i) + "%" + HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
        copiedTo = i + 3;
      }
      i += 2;
    } else if (kind === PARAMETER) {
      if (segmentEnd === -1) segmentEnd = i;
    } else {
      return undefined;
    }
  }
  if (isDotSegment(path, segmentStart, segmentEnd === -1 ? length : segmentEnd)) return undefined;
  return copiedTo === 0 ? path : out + path.slice(copiedTo);
}

/** Whether path[start..end) is "." or "..". */
function isDotSegment(path: string, start: number, end: number): boolean {
  const size = end - start;
  return (size === 1 || size === 2) && path.charCodeAt(start) === DOT && path.charCodeAt(end - 1) === DOT;
}

/** 0–15 for a hex digit; a large negative number otherwise, so a sum with it stays negative. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1024;
}

function isLowerHex(c: number): boolean {
  return c >= 0x61 && c <= 0x66;
}

/**
 * The path routes are matched on: the normalized path without its segments' `;` parameters
 * (`/items/104;a/x;v=2` → `/items/104/x`). Servers such as Tomcat and Spring drop them before
 * routing, so `/report;x` reaches the upstream's `/report`; matched as it is spelled, it would
 * escape the route's limits (to a catch-all route, or a `param:` key of its own). The path
 * forwarded keeps them. Returned as is, without allocating, when there are none.
 *
 * @example
 * routingPath("/items/104;a") // "/items/104"
 */
export function routingPath(path: string): string {
  return path.indexOf(";") === -1 ? path : path.replace(PATH_PARAMETERS, "");
}

const PATH_PARAMETERS = /;[^/]*/g;
