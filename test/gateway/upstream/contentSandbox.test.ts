// Upstream responses share the dashboard's origin, so what an upstream returns must not run
// there. An API's answers (JSON, text, binary) pass as data with `nosniff`; anything a browser
// could run (HTML, SVG, XML, a response without a type) is also sandboxed, so opened in a tab it
// runs no script and has an origin of its own. Checked on the classification, then over the
// wire with an upstream that answers each kind of content.
import assert from "node:assert/strict";
import type { OutgoingHttpHeaders } from "node:http";
import { after, before, describe, it } from "node:test";
import { isApiContentType } from "../../../src/gateway/upstream/contentSandbox.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

describe("isApiContentType", () => {
  const api = ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/problem+json", "application/vnd.api+json; charset=utf-8",
    "text/plain; charset=utf-8", "text/csv", "text/event-stream", "application/octet-stream", "application/x-ndjson", "application/grpc", "application/x-protobuf"];
  const runnable = [undefined, "", "text/html", "text/html; charset=utf-8", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
    "application/javascript", "application/pdf", "application/jsonp", "application/json-evil", "+json", "multipart/form-data; boundary=x"];
  for (const type of api) it(`${type}: an API's answer, no sandbox`, () => assert.equal(isApiContentType(type), true));
  for (const type of runnable) it(`${String(type)}: sandboxed`, () => assert.equal(isApiContentType(type), false));
});

describe("over the wire", () => {
  /** What the upstream answers at /<name>: its headers, and a body. */
  const answers: Record<string, OutgoingHttpHeaders> = {
    json: { "content-type": "application/json" },
    text: { "content-type": "text/plain; charset=utf-8" },
    html: { "content-type": "text/html; charset=utf-8" },
    svg: { "content-type": "image/svg+xml" },
    untyped: {},
    "own-policy": { "content-type": "text/html", "content-security-policy": "default-src 'self'", "x-content-type-options": "nosniff" },
    "named-away": { "content-type": "application/json", "connection": "content-type" },
    retyped: { "content-type": "application/json" },
  };
  let upstream: RecordingUpstream;
  let sluice: TestSluice;
  before(async () => {
    upstream = await startRecordingUpstream((request, res) => {
      res.writeHead(200, answers[request.url.slice(1)] ?? {});
      res.end("<script>fetch('/admin/api/users')</script>");
    });
    sluice = await startTestSluice(`
services:
  site:
    upstream: "${upstream.url}"
    openapi: false
    routes:
      - { path: /retyped, responseHeaders: { set: { content-type: text/html } } }
      - { path: /* }
consumers:
  tester: { keys: [sandbox-test-key] }
`);
  });
  after(async () => {
    await sluice.close();
    await upstream.close();
  });

  async function headersOf(path: string): Promise<Headers> {
    const response = await sluice.call(`/api/site/${path}`, { key: "sandbox-test-key" });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    return response.headers;
  }

  it("an API's answer gets nosniff and no sandbox", async () => {
    for (const path of ["json", "text"]) {
      const headers = await headersOf(path);
      assert.equal(headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(headers.get("content-security-policy"), null, path);
    }
  });

  it("HTML, SVG and a response without a type are sandboxed", async () => {
    for (const path of ["html", "svg", "untyped"]) {
      const headers = await headersOf(path);
      assert.equal(headers.get("content-security-policy"), "sandbox", path);
      assert.equal(headers.get("x-content-type-options"), "nosniff", path);
    }
  });

  it("keeps the upstream's own policy beside the sandbox, and sends nosniff once", async () => {
    const headers = await headersOf("own-policy");
    assert.equal(headers.get("content-security-policy"), "default-src 'self', sandbox");
    assert.equal(headers.get("x-content-type-options"), "nosniff");
  });

  it("judges the content type the client gets: one named in Connection, one set by a rewrite", async () => {
    const namedAway = await headersOf("named-away");
    assert.equal(namedAway.get("content-type"), null);
    assert.equal(namedAway.get("content-security-policy"), "sandbox");
    assert.equal((await headersOf("retyped")).get("content-security-policy"), "sandbox");
  });
});
