// A route's rewrites, compiled once: prefix replaced or stripped at a segment boundary, and the
// service's header rewrites joined with the route's, the route winning.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/loader.js";
import { compileRewrites, rewritePath } from "../../../src/gateway/upstream/rewrites.js";

const service = parseConfig(`
services:
  s:
    upstream: http://127.0.0.1:9000
    requestHeaders: { set: { x-env: prod, x-team: core }, remove: [cookie] }
`, "test.yaml").services.s!;

describe("rewritePath", () => {
  const replace = compileRewrites("/base", service, { rewritePrefix: { from: "/v1", to: "/v2" } })!;
  const strip = compileRewrites("", service, { rewritePrefix: { from: "/legacy/", to: "" } })!;

  it("replaces the prefix, keeping the rest and the query", () => {
    assert.equal(rewritePath(replace, "/base/v1/items?x=1"), "/base/v2/items?x=1");
    assert.equal(rewritePath(replace, "/base/v1"), "/base/v2");
    assert.equal(rewritePath(replace, "/base/v1?x=1"), "/base/v2?x=1");
  });

  it("matches only whole segments", () => {
    assert.equal(rewritePath(replace, "/base/v10/items"), "/base/v10/items");
    assert.equal(rewritePath(replace, "/base/other"), "/base/other");
  });

  it("strips a prefix, leaving at least /", () => {
    assert.equal(rewritePath(strip, "/legacy/users/1"), "/users/1");
    assert.equal(rewritePath(strip, "/legacy"), "/");
    assert.equal(rewritePath(strip, "/legacy?q"), "/?q");
  });
});

describe("compileRewrites", () => {
  it("is undefined for a route with no rewrites anywhere, so the proxy skips them", () => {
    const plain = parseConfig("services:\n  s: { upstream: http://127.0.0.1:9000 }\n", "test.yaml").services.s!;
    assert.equal(compileRewrites("", plain, {}), undefined);
  });

  it("joins the service's header rewrites with the route's", () => {
    const rewrites = compileRewrites("", service, { requestHeaders: { set: { "x-team": "edge" }, remove: ["x-env"] } })!;
    assert.deepEqual(rewrites.request?.set, [["x-team", "edge"]]);
    assert.deepEqual([...rewrites.request.drop].sort(), ["cookie", "x-env", "x-team"]);
    assert.equal(rewrites.response, undefined);
    assert.equal(rewrites.pathFrom, undefined);
  });
});
