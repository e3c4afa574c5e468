// The whole /openapi.json of a Sluice with accounts and the demo services, as a client generator
// reads it: valid OpenAPI 3.1 (checked against the specification's own JSON Schema), and every
// operation named by an operationId that no other operation has, the control plane's taken from
// its route tables, the gateway's and the services' made by the gateway.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ACCOUNT_ROUTES } from "../../src/control/accountRoutes.js";
import { ADMIN_ROUTES } from "../../src/control/adminApi.js";
import { ADMIN_LIVE_ROUTES } from "../../src/control/adminLiveRoutes.js";
import { AUTH_ROUTES } from "../../src/control/authRoutes.js";
import { PASSWORD_RESET_ROUTES } from "../../src/control/passwordResetRoutes.js";
import { RATELIMIT_OPERATIONS } from "../../src/control/ratelimitOpenApi.js";
import { USAGE_ROUTES } from "../../src/control/usageRoutes.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { DEMO_YAML } from "../support/testSluice.js";

type Operation = { operationId?: string };
type Document = { paths: Record<string, Record<string, Operation>> };

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

let running: AccountsSluice;
let document: Document;

before(async () => {
  running = await startAccountsSluice(() => DEMO_YAML, { adminToken: "openapi-admin-token" });
  document = (await (await running.sluice.call("/openapi.json")).json()) as Document;
});
after(() => running.close());

const operations = () => Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).filter(([method]) => METHODS.has(method)).map(([method, operation]) => ({ at: `${method} ${path}`, id: operation.operationId })));

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(document);
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
  });

  it("names every operation by an operationId no other operation has", () => {
    const all = operations();
    assert.deepEqual(all.filter((op) => op.id === undefined).map((op) => op.at), [], "operations without an id");
    const ids = all.map((op) => op.id!);
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], "ids used twice");
  });

  it("takes the control plane's ids from its route tables, and names the gateway's and the services' itself", () => {
    const declared = [...AUTH_ROUTES, ...PASSWORD_RESET_ROUTES, ...ACCOUNT_ROUTES, ...USAGE_ROUTES, ...ADMIN_ROUTES, ...ADMIN_LIVE_ROUTES, ...RATELIMIT_OPERATIONS].map((route) => route.operationId);
    const gateway = ["getLiveness", "getReadiness", "randomGetNumber", "recommendGetRecommendById", "usersGetUsersById"];
    assert.deepEqual(operations().map((op) => op.id).sort(), [...declared, ...gateway].sort());
    assert.equal(declared.length + gateway.length, 41);
  });
});
