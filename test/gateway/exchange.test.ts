// An Exchange answers a problem in one way wherever the gateway refuses or fails: the problem
// document with the request id, and the problem remembered for the metrics and the access log.
// Its clock readings start at its arrival.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Exchange } from "../../src/gateway/exchange.js";
import { problems } from "../../src/problems/catalogue.js";

describe("Exchange", () => {
  let server: Server;
  let url: string;
  const seen: Exchange[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const exchange = new Exchange(req, res);
      exchange.requestId = "req-1";
      seen.push(exchange);
      if (req.url === "/cut-off") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("half of it");
      }
      exchange.answerProblem(problems.rateLimited, "Slow down.", { "retry-after": "3" });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("answers a problem with the request id and the given headers, and remembers which", async () => {
    const before = performance.now();
    const response = await fetch(`${url}/refused`);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    assert.equal(response.headers.get("x-request-id"), "req-1");
    assert.equal(response.headers.get("retry-after"), "3");
    assert.equal(((await response.json()) as { code: string }).code, "SLUICE_ERR_RATE_LIMITED");
    const exchange = seen.at(-1)!;
    assert.equal(exchange.problem, problems.rateLimited);
    assert.ok(exchange.startedAt >= before, "the clock starts at the request's arrival");
    assert.deepEqual([exchange.upstreamStartedAt, exchange.upstreamRespondedAt, exchange.verdict], [0, 0, undefined]);
  });

  it("cuts off a response already under way, and remembers no problem: none was answered", async () => {
    await assert.rejects(fetch(`${url}/cut-off`).then((response) => response.text()));
    assert.equal(seen.at(-1)!.problem, undefined);
  });
});
