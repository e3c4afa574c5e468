// When the upstream misbehaves after accepting the connection: too slow in total (504 before
// the response began, a cut connection after), silent mid-body, or resetting the connection
// mid-body. In every case the client learns promptly and nothing hangs; a service whose every
// target is out answers 502 without trying.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../../support/poll.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "failures-test-key";
let upstream: RecordingUpstream;
let sluice: TestSluice;
/** Responses the upstream left open, ended after the tests. */
const open: ServerResponse[] = [];

before(async () => {
  upstream = await startRecordingUpstream((request, res) => {
    open.push(res);
    if (request.url === "/silent") return; // never answers
    res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
    // "/reset": the connection goes down once the first part has left, 989 bytes short.
    res.write("first part;", () => {
      if (request.url === "/reset") res.socket?.destroy();
    });
    // "/stall": headers and a first chunk, then silence
  });
  sluice = await startTestSluice(`
services:
  total: { upstream: "${upstream.url}", timeout: 30s, totalTimeout: 300ms, openapi: false }
  idle: { upstream: "${upstream.url}", bodyTimeout: 300ms, openapi: false }
  plain: { upstream: "${upstream.url}", openapi: false }
  checked:
    upstream: "http://127.0.0.1:1"
    healthCheck: { interval: 1h, unhealthyThreshold: 1 }
    openapi: false
consumers:
  tester: { keys: [${KEY}] }
`);
});
after(async () => {
  for (const res of open) res.destroy();
  await sluice.close();
  await upstream.close();
});

describe("the service's total timeout", () => {
  it("answers 504 when no response has begun in time, whatever the header timeout", async () => {
    const response = await sluice.call("/api/total/silent", { key: KEY });
    assert.equal(response.status, 504);
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(problem.code, "SLUICE_ERR_UPSTREAM_TIMEOUT");
    assert.match(problem.detail, /in total/);
  });

  it("cuts the connection when the response has begun but not ended in time", async () => {
    const response = await sluice.call("/api/total/stall", { key: KEY });
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
  });
});

describe("a response body that stops", () => {
  it("is cut when the upstream stays silent longer than the body timeout", async () => {
    const response = await sluice.call("/api/idle/stall", { key: KEY });
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
  });

  it("is cut when the upstream resets the connection mid-body", async () => {
    const response = await sluice.call("/api/plain/reset", { key: KEY });
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
  });
});

describe("a service with no target able to take the request", () => {
  it("answers 502 without trying once the health check has taken its only target out", async () => {
    // The first round of checks runs at start-up; its verdict arrives within moments.
    const detail = await pollUntil(async () => {
      const response = await sluice.call("/api/checked/x", { key: KEY });
      assert.equal(response.status, 502);
      return ((await response.json()) as { detail: string }).detail;
    }, (answer) => answer.includes("no healthy target"));
    assert.equal(detail, 'Service "checked" has no healthy target.');
  });
});
