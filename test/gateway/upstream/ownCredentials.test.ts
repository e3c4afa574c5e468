// Sluice's own credentials stay in Sluice. A browser signed in to the dashboard sends its session
// cookie with every request to the gateway's origin, the playground's API calls included; an
// upstream that received it could replay it against /admin/api. So the upstream gets the
// client's other cookies exactly as sent and none of Sluice's, never the admin token or a key
// Sluice made, and cannot set Sluice's cookie names in the browser either. Checked first on the
// filters themselves, then over the wire against an upstream that records every header.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateApiKey } from "../../../src/accounts/apiKeys.js";
import { carriesOwnSecret, setsOwnCookie, withoutOwnCookies } from "../../../src/gateway/upstream/ownCredentials.js";
import { generateServiceToken } from "../../../src/service/serviceTokens.js";
import { sendRaw } from "../hostile/hostileHarness.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "own-credentials-key";
const ADMIN_TOKEN = "the-operators-admin-token";

describe("withoutOwnCookies", () => {
  const cases: [string, string, string | undefined][] = [
    ["a header without Sluice's cookies, as it is", "theme=dark; lang=en", "theme=dark; lang=en"],
    ["the plain session cookie", "theme=dark; sluice_session=abc; lang=en", "theme=dark; lang=en"],
    ["the __Host- cookie of HTTPS", "__Host-sluice_session=abc; theme=dark", "theme=dark"],
    ["a __Secure- spelling", "theme=dark; __Secure-sluice_session=abc", "theme=dark"],
    ["any case", "SLUICE_SESSION=a; __HOST-Sluice_Session=b; theme=dark", "theme=dark"],
    ["loose spacing", "theme=dark;sluice_session=abc ;  lang=en", "theme=dark; lang=en"],
    ["a nameless pair that reads as the cookie", "=sluice_session=abc; theme=dark", "theme=dark"],
    ["only Sluice's cookies: no header at all", "sluice_session=abc; __Host-sluice_session=def", undefined],
    ["a cookie whose name merely contains the name", "my_sluice_session=abc; sluice_session_theme=x", "my_sluice_session=abc; sluice_session_theme=x"],
    ["a value that mentions the name", "next=sluice_session=abc", "next=sluice_session=abc"],
  ];
  for (const [what, header, expected] of cases) {
    it(`${what}: ${JSON.stringify(header)}`, () => assert.equal(withoutOwnCookies(header), expected));
  }

  it("returns the very string when there is nothing to remove (no copy on the hot path)", () => {
    const header = "a=1;b=2";
    assert.equal(withoutOwnCookies(header), header);
  });
});

describe("setsOwnCookie", () => {
  const cases: [string, boolean][] = [
    ["sluice_session=attacker; Path=/; HttpOnly", true],
    ["__Host-sluice_session=attacker; Path=/; Secure", true],
    ["__Secure-sluice_session=attacker; Secure", true],
    ["sluice_session=; Max-Age=0", true],
    ["  Sluice_Session =x", true],
    ["=sluice_session=attacker", true],
    ["theme=light; Path=/", false],
    ["theme=sluice_session; Path=/", false],
    ["sluice_session_v2=x", false],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(setsOwnCookie(header), expected));
  }
});

describe("carriesOwnSecret", () => {
  it("knows the admin token, the request's own key, and every key or token shape Sluice makes", () => {
    assert.equal(carriesOwnSecret(`Bearer ${ADMIN_TOKEN}`, undefined, ADMIN_TOKEN), true);
    assert.equal(carriesOwnSecret(`bearer ${ADMIN_TOKEN}`, undefined, ADMIN_TOKEN), true);
    assert.equal(carriesOwnSecret(`Bearer ${KEY}`, KEY, undefined), true);
    assert.equal(carriesOwnSecret(`Bearer ${generateApiKey()}`, undefined, undefined), true);
    assert.equal(carriesOwnSecret(`Bearer ${generateServiceToken()}`, undefined, undefined), true);
  });

  it("lets the upstream's own credentials pass", () => {
    assert.equal(carriesOwnSecret("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", KEY, ADMIN_TOKEN), false);
    assert.equal(carriesOwnSecret(`Bearer ${ADMIN_TOKEN}x`, KEY, ADMIN_TOKEN), false);
    assert.equal(carriesOwnSecret("Basic dXNlcjpwYXNz", KEY, ADMIN_TOKEN), false);
    assert.equal(carriesOwnSecret("Bearer sk_live_abc", KEY, undefined), false);
    assert.equal(carriesOwnSecret(`Bearer ${ADMIN_TOKEN}`, KEY, undefined), false, "no admin token configured");
  });
});

describe("over the wire", () => {
  let upstream: RecordingUpstream;
  let sluice: TestSluice;
  before(async () => {
    upstream = await startRecordingUpstream((request, res) => {
      if (request.url === "/set-cookies") {
        res.setHeader("set-cookie", [
          "sluice_session=attacker; Path=/; HttpOnly",
          "__Host-sluice_session=attacker; Path=/; Secure",
          "=sluice_session=attacker; Path=/",
          "theme=light; Path=/",
        ]);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    sluice = await startTestSluice(`
services:
  echo: { upstream: "${upstream.url}", openapi: false }
consumers:
  tester: { keys: [${KEY}] }
`, { adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await sluice.close();
    await upstream.close();
  });

  async function received(headers: Record<string, string>): Promise<Record<string, string | string[] | undefined>> {
    const response = await sluice.call("/api/echo/x", { key: KEY, headers });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    return upstream.received.at(-1)!.headers;
  }

  it("the upstream gets the client's other cookies unchanged and none of Sluice's", async () => {
    const seen = await received({ cookie: "theme=dark; sluice_session=s3cret; cart=a%3Db; __Host-sluice_session=s3cret" });
    assert.equal(seen["cookie"], "theme=dark; cart=a%3Db");
  });

  it("a request with only Sluice's cookies reaches the upstream without a Cookie header", async () => {
    const seen = await received({ cookie: "sluice_session=s3cret" });
    assert.equal(seen["cookie"], undefined);
    assert.equal(seen["x-api-key"], undefined, "nor the key it was authenticated with");
  });

  it("two Cookie headers are screened as the one node joins them into", async () => {
    const bench = { sluice, upstream, authority: new URL(sluice.url).host, close: () => Promise.resolve() };
    const reply = await sendRaw(bench, [`GET /api/echo/two HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nCookie: theme=dark\r\nCookie: sluice_session=s3cret\r\nConnection: close\r\n\r\n`]);
    assert.equal(reply.statuses[0], 200);
    assert.equal(upstream.received.at(-1)!.headers["cookie"], "theme=dark");
  });

  it("an Authorization header with the admin token, the request's key, or a Sluice key is not forwarded", async () => {
    for (const secret of [ADMIN_TOKEN, KEY, generateApiKey(), generateServiceToken()]) {
      assert.equal((await received({ authorization: `Bearer ${secret}` }))["authorization"], undefined, secret);
    }
  });

  it("the upstream's own Authorization passes", async () => {
    assert.equal((await received({ authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig" }))["authorization"], "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig");
  });

  it("the browser never gets a Set-Cookie for Sluice's cookies from an upstream, and gets the others", async () => {
    const response = await sluice.call("/api/echo/set-cookies", { key: KEY });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    assert.deepEqual(response.headers.getSetCookie(), ["theme=light; Path=/"]);
  });
});
