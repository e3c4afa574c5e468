// Service tokens confined to their scope, end to end: an admin gives the billing application a
// token for its own namespace and policy. With it the application decides, reads and resets its
// own counters, and nothing else: another namespace (the default one included), another policy,
// or a batch with one such check is refused with 403 out-of-scope naming the field, and consumes
// nothing. Over gRPC the same token may ask about its policy's domain and no other
// (PERMISSION_DENIED). A token made without a scope keeps every namespace, as tokens had before
// scopes, until the operator sets serviceTokens.requireScope; serviceTokens.grpc: required turns
// away gRPC calls without a token. Both apply on a config reload.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import { parseConfig } from "../../src/config/loader.js";
import { problems } from "../../src/problems/catalogue.js";
import { envoyRlsClient, type EnvoyRlsClient, type RlsRequest } from "./grpc/envoyRlsClient.js";
import { CHEAP_PASSWORDS } from "../support/accountsSluice.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { pollUntil } from "../support/poll.js";
import { ADMIN_TOKEN, startServiceSluice, type ServiceSluice } from "./serviceSluice.js";

const policies = `
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { limit: 3, window: 1m }
  sms:
    descriptors:
      - key: identifier
        limit: { limit: 3, window: 1m }
`;

const inNamespace = (namespace: string | undefined, extra: Record<string, unknown> = {}) => ({ identifier: "user-42", limit: 3, duration: "1m", ...(namespace !== undefined && { namespace }), ...extra });
const domainRequest = (domain: string): RlsRequest => ({ domain, descriptors: [{ entries: [{ key: "identifier", value: "user-42" }] }] });

describe("service tokens confined to their scope", () => {
  let accounts: Accounts;
  let sluice: ServiceSluice;
  let rls: EnvoyRlsClient;
  let billing: string;
  let legacy: string;

  const makeToken = async (body: Record<string, unknown>) => {
    const response = await fetch(`${sluice.url}/admin/api/service-tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    const { token } = (await response.json()) as { token: string };
    // Known to the verifier once its NOTIFY has arrived.
    await pollUntil(() => sluice.post("/v1/ratelimit", { identifier: "probe", limit: 1, duration: "1m", namespace: "billing", cost: 0 }, token), (r) => r.status !== 401);
    return token;
  };
  /** The problem of a refused call: its status, code and detail. */
  const refusal = async (response: Response) => {
    const problem = (await response.json()) as { code: string; detail: string };
    return { status: response.status, code: problem.code, detail: problem.detail };
  };
  const reload = async (yaml: string) => {
    const edited = parseConfig(yaml, "test.yaml");
    await sluice.reload({ ...edited, server: { ...edited.server, host: "127.0.0.1", port: 0 } });
  };
  const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    const db = await openTestDatabase(await TEST_ENGINES[0]!.fresh());
    accounts = await openAccounts(db, { passwords: CHEAP_PASSWORDS });
    sluice = await startServiceSluice(policies, { accounts, grpc: true });
    rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
    billing = await makeToken({ name: "billing", rights: ["decide", "reset"], scope: { namespaces: ["billing"], policies: ["emails"] } });
    legacy = await makeToken({ name: "made before scopes", rights: ["decide", "reset"] });
  });
  after(async () => {
    rls.close();
    await sluice.close();
    await accounts.close();
  });

  it("decides, reads and resets in its own namespace and policy", async () => {
    assert.equal((await sluice.post("/v1/ratelimit", inNamespace("billing"), billing)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit", inNamespace("billing", { cost: 0 }), billing)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit", { policy: "emails", identifier: "user-42" }, billing)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit/reset", inNamespace("billing"), billing)).status, 204);
  });

  it("may not spend, read or wipe another namespace's counters, the default one included, naming the field", async () => {
    for (const [path, body] of [["/v1/ratelimit", inNamespace("shipping")], ["/v1/ratelimit", inNamespace("shipping", { cost: 0 })], ["/v1/ratelimit/reset", inNamespace("shipping")]] as const) {
      assert.deepEqual(await refusal(await sluice.post(path, body, billing)), {
        status: 403, code: problems.outOfScope.code, detail: 'Namespace "shipping" (namespace) is outside this token\'s scope (namespaces: billing; policies: emails).',
      }, `${path} ${JSON.stringify(body)}`);
    }
    const unnamed = await refusal(await sluice.post("/v1/ratelimit", inNamespace(undefined), billing));
    assert.match(unnamed.detail, /^Namespace "default" \(namespace\)/);
    assert.equal(unnamed.status, 403);
  });

  it("may not use another named policy", async () => {
    const refused = await refusal(await sluice.post("/v1/ratelimit", { policy: "sms", identifier: "user-42" }, billing));
    assert.deepEqual([refused.status, refused.code], [403, problems.outOfScope.code]);
    assert.match(refused.detail, /^Policy "sms" \(policy\) is outside/);
  });

  it("refuses a batch with one check outside its scope, naming that check, and consumes nothing", async () => {
    const mine = inNamespace("billing", { identifier: "batch" });
    const refused = await refusal(await sluice.post("/v1/ratelimit", { checks: [mine, inNamespace("shipping")] }, billing));
    assert.equal(refused.status, 403);
    assert.match(refused.detail, /\(checks\.1\.namespace\)/);
    const state = (await (await sluice.post("/v1/ratelimit", { ...mine, cost: 0 }, billing)).json()) as { remaining: number };
    assert.equal(state.remaining, 3, "the check inside the scope took nothing");
  });

  it("asks Envoy's ShouldRateLimit about its policy's domain and no other", async () => {
    const metadata = withToken(billing);
    assert.equal((await rls.shouldRateLimit(domainRequest("emails"), metadata)).overall_code, "OK");
    await assert.rejects(rls.shouldRateLimit(domainRequest("sms"), metadata), (error: { code: number; details: string }) => {
      assert.equal(error.code, status.PERMISSION_DENIED);
      assert.match(error.details, /^Domain "sms" is outside this token's scope/);
      return true;
    });
    await assert.rejects(rls.shouldRateLimit(domainRequest("nope"), metadata), { code: status.PERMISSION_DENIED }, "out of scope before unknown: the token learns no domain names");
    await assert.rejects(rls.shouldRateLimit(domainRequest("emails"), withToken(`st_${"x".repeat(32)}`)), { code: status.UNAUTHENTICATED });
  });

  it("lets a token made without a scope use every namespace and policy, as before scopes, and a gRPC call without a token every domain", async () => {
    assert.equal((await sluice.post("/v1/ratelimit", inNamespace("shipping"), legacy)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit", { policy: "sms", identifier: "user-42" }, legacy)).status, 200);
    assert.equal((await sluice.post("/v1/ratelimit/reset", inNamespace("anything"), legacy)).status, 204);
    assert.equal((await rls.shouldRateLimit(domainRequest("sms"))).overall_code, "OK");
  });

  it("refuses unscoped tokens once serviceTokens.requireScope is set, and gRPC calls without a token once serviceTokens.grpc is required", async () => {
    await reload(`${policies}\nserviceTokens: { requireScope: true, grpc: required }\n`);
    try {
      const refused = await refusal(await sluice.post("/v1/ratelimit", inNamespace("shipping"), legacy));
      assert.deepEqual([refused.status, refused.code], [403, problems.outOfScope.code]);
      assert.match(refused.detail, /no scope, and serviceTokens\.requireScope refuses/);
      await assert.rejects(rls.shouldRateLimit(domainRequest("sms"), withToken(legacy)), { code: status.PERMISSION_DENIED });
      assert.equal((await sluice.post("/v1/ratelimit", inNamespace("billing"), billing)).status, 200, "a scoped token is unaffected");
      assert.equal((await sluice.post("/v1/ratelimit", inNamespace("shipping"), ADMIN_TOKEN)).status, 200, "the operator's admin token has no scope");
      await assert.rejects(rls.shouldRateLimit(domainRequest("emails")), { code: status.UNAUTHENTICATED });
      assert.equal((await rls.shouldRateLimit(domainRequest("emails"), withToken(billing))).overall_code, "OK");
    } finally {
      await reload(policies);
    }
  });
});
