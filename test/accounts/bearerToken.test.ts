// Secrets arrive as `Authorization: Bearer <token>` and are compared in constant time, hashed first
// so that a presented token of another length is simply not the same secret.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bearerToken, sameSecret } from "../../src/accounts/bearerToken.js";

describe("bearerToken", () => {
  it("reads the token of a Bearer header", () => {
    assert.equal(bearerToken("Bearer s3cret-token"), "s3cret-token");
  });

  it("reads nothing from another scheme, a bare token or no header", () => {
    assert.equal(bearerToken("Basic dXNlcjpwYXNz"), undefined);
    assert.equal(bearerToken("s3cret-token"), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

describe("sameSecret", () => {
  it("is true for the same secret and false for another, whatever its length", () => {
    assert.equal(sameSecret("s3cret-token", "s3cret-token"), true);
    assert.equal(sameSecret("s3cret-tokem", "s3cret-token"), false);
    assert.equal(sameSecret("s3cret", "s3cret-token"), false);
    assert.equal(sameSecret("", "s3cret-token"), false);
  });
});
