// The path rules, as a table: what each path becomes, or that it is refused (undefined).
// Routing and forwarding both use the result, so every row is also a statement about what an
// upstream can receive. Then the two readings that keep one path from being counted under many
// spellings: the path routes are matched on, and a segment's value in a limit key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, routingPath } from "../../src/gateway/requestPath.js";

const KEPT: readonly string[] = [
  "/",
  "/api/shop/items",
  "/api/shop/items/",
  "/api/shop/file.tar.gz",
  "/api/shop/a..b",
  "/api/shop/...",
  "/api/shop/.well-known/openid",
  "/api/shop/..hidden",
  "/api/shop/v1;version=2",
  "/api/shop/%20space",
  "/api/shop/caf%C3%A9",
  "/api/shop/a%3Fb",
  "/api/shop/user@example.com",
  "/api/shop/!$&'()*+,;=:@-._~",
];

const CHANGED: ReadonlyArray<readonly [string, string, string]> = [
  ["collapses empty segments", "/api//shop///items", "/api/shop/items"],
  ["collapses a trailing double slash", "/api/shop/items//", "/api/shop/items/"],
  ["collapses a leading double slash", "//api/shop", "/api/shop"],
  ["decodes encoded letters", "/api/shop/%61dmin", "/api/shop/admin"],
  ["decodes encoded upper-case letters and digits", "/api/%53hop/%31", "/api/Shop/1"],
  ["decodes encoded - _ ~", "/api/shop/%2D%5f%7E", "/api/shop/-_~"],
  ["upper-cases the hex of kept escapes", "/api/shop/caf%c3%a9", "/api/shop/caf%C3%A9"],
  ["decodes and collapses together", "/api//shop/%69tems//%3f", "/api/shop/items/%3F"],
];

const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ["an empty path", ""],
  ["a path not starting with /", "api/shop"],
  ["a .. segment", "/api/shop/../admin"],
  ["a . segment", "/api/shop/./items"],
  ["a final .. segment", "/api/shop/.."],
  ["a final . segment", "/api/shop/."],
  ["a .. segment after a collapsed slash", "/api/shop//../admin"],
  ["..; (Tomcat path parameter)", "/api/shop/..;/admin"],
  [".; (Tomcat path parameter)", "/api/shop/.;/admin"],
  ["..;param", "/api/shop/..;jsessionid=x/admin"],
  ["an encoded dot", "/api/shop/%2e%2e/admin"],
  ["an upper-case encoded dot", "/api/shop/%2E%2E/admin"],
  ["a half-encoded dot segment", "/api/shop/.%2e/admin"],
  ["an encoded slash", "/api/shop/a%2fb"],
  ["an upper-case encoded slash", "/api/shop/a%2Fb"],
  ["an encoded backslash", "/api/shop/a%5cb"],
  ["an encoded semicolon", "/api/shop/..%3b/admin"],
  ["an encoded percent (double encoding)", "/api/shop/%252e%252e/admin"],
  ["an encoded NUL", "/api/shop/a%00b"],
  ["an encoded control character", "/api/shop/a%0d%0aX-Injected:%201"],
  ["an encoded DEL", "/api/shop/a%7fb"],
  ["a backslash", "/api/shop/a\\b"],
  ["a backslash dot segment", "/api/shop\\..\\admin"],
  ["a NUL", "/api/shop/a\0b"],
  ["a tab", "/api/shop/a\tb"],
  ["a space", "/api/shop/a b"],
  ["a fragment", "/api/shop/a#b"],
  ["a non-ASCII character", "/api/shop/café"],
  ["a truncated escape", "/api/shop/a%2"],
  ["a lone percent", "/api/shop/100%"],
  ["a non-hex escape", "/api/shop/%zz"],
  ["brackets", "/api/shop/[x]"],
  ["a pipe", "/api/shop/a|b"],
  ["a double quote", "/api/shop/\"x\""],
];

describe("normalizePath", () => {
  for (const path of KEPT) {
    it(`keeps ${JSON.stringify(path)} as it is`, () => {
      assert.equal(normalizePath(path), path);
    });
  }
  for (const [what, path, expected] of CHANGED) {
    it(`${what}: ${JSON.stringify(path)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(path), expected);
    });
  }
  for (const [what, path] of REFUSED) {
    it(`refuses ${what}: ${JSON.stringify(path)}`, () => {
      assert.equal(normalizePath(path), undefined);
    });
  }

  it("is idempotent: a normalized path normalizes to itself", () => {
    for (const [, path] of CHANGED) {
      const once = normalizePath(path)!;
      assert.equal(normalizePath(once), once);
    }
  });
});

describe("routingPath", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["/items/104", "/items/104"],
    ["/items/104;a", "/items/104"],
    ["/items/104;", "/items/104"],
    ["/items/104;a=b;c", "/items/104"],
    ["/report;jsessionid=x", "/report"],
    ["/users;v=2/7;x/profile", "/users/7/profile"],
    ["/items/;a", "/items/"],
  ];
  for (const [path, expected] of cases) {
    it(`${JSON.stringify(path)} is routed as ${JSON.stringify(expected)}`, () => assert.equal(routingPath(path), expected));
  }
});
