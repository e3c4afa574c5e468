// /docs' two documents: the consumer's keeps the services, sign-in and a user's own routes; the
// admin's keeps /admin/api/* and the rate-limit service. Each names only the tags and security
// schemes its paths use, says which it is, and links back to the dashboard.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { partOf, splitDocument } from "../../../src/control/docs/splitDocument.js";

const DOCUMENT = {
  openapi: "3.1.0",
  info: { title: "Sluice API gateway", version: "0.1.0", description: "Every service is reached at /api/{service}/{path}." },
  security: [{ apiKey: [] }],
  tags: [{ name: "users" }, { name: "auth" }, { name: "admin: users" }, { name: "ratelimit" }, { name: "unused" }],
  paths: {
    "/api/users/users/{id}": { get: { tags: ["users"], security: [{ apiKey: [] }] } },
    "/auth/login": { post: { tags: ["auth"], security: [] } },
    "/admin/api/users": { get: { tags: ["admin: users"], security: [{ adminToken: [] }, { session: [] }] } },
    "/v1/ratelimit": { post: { tags: ["ratelimit"], security: [{ serviceToken: [] }] } },
  },
  components: {
    securitySchemes: { apiKey: {}, session: {}, adminToken: {}, serviceToken: {} },
    schemas: { Problem: { type: "object" } },
  },
};

describe("splitDocument", () => {
  it("puts the operators' endpoints in the admin part and the rest in the consumer's", () => {
    assert.equal(partOf("/admin/api/plans"), "admin");
    assert.equal(partOf("/v1/ratelimit/reset"), "admin");
    assert.equal(partOf("/account/api/keys"), "consumer");
    assert.equal(partOf("/api/random/number"), "consumer");
  });

  it("keeps each part's paths, the tags and schemes they use, and every schema", () => {
    const consumer = splitDocument(DOCUMENT, "consumer") as typeof DOCUMENT;
    assert.deepEqual(Object.keys(consumer.paths), ["/api/users/users/{id}", "/auth/login"]);
    assert.deepEqual(consumer.tags.map((t) => t.name), ["users", "auth"]);
    assert.deepEqual(Object.keys(consumer.components.securitySchemes), ["apiKey"]);
    assert.deepEqual(consumer.components.schemas, DOCUMENT.components.schemas);
    assert.equal(consumer.info.title, "Sluice: consumer API");
    assert.match(consumer.info.description, /\[Back to the dashboard\]\(\/\)/);

    const admin = splitDocument(DOCUMENT, "admin") as typeof DOCUMENT;
    assert.deepEqual(Object.keys(admin.paths), ["/admin/api/users", "/v1/ratelimit"]);
    assert.deepEqual(admin.tags.map((t) => t.name), ["admin: users", "ratelimit"]);
    assert.deepEqual(Object.keys(admin.components.securitySchemes).sort(), ["adminToken", "serviceToken", "session"]);
    assert.deepEqual(admin.security, [], "no document-wide API key for the admin's endpoints");
    assert.equal(admin.info.title, "Sluice: admin API");
  });

  it("leaves the whole document as it was", () => {
    const before = JSON.stringify(DOCUMENT);
    splitDocument(DOCUMENT, "admin");
    assert.equal(JSON.stringify(DOCUMENT), before);
  });
});
