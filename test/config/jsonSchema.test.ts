// The JSON Schema editors use (schema/sluice.config.schema.json) is generated from the config
// schema; this test catches the committed file going stale when the config schema changes.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { configJsonSchema } from "../../src/config/jsonSchema.js";

const COMMITTED = new URL("../../schema/sluice.config.schema.json", import.meta.url);

describe("schema/sluice.config.schema.json", () => {
  it("is exactly what the config schema generates", async () => {
    const committed: unknown = JSON.parse(await readFile(COMMITTED, "utf8"));
    assert.deepEqual(committed, configJsonSchema(),
      "schema/sluice.config.schema.json is stale: run npm run schema and commit the result");
  });

  it("is titled and describes an object that admits no unknown top-level fields", () => {
    const schema = configJsonSchema();
    assert.equal(schema["title"], "Sluice configuration");
    assert.deepEqual(schema["type"], ["object", "null"], "an empty file (YAML null) is the default configuration");
    assert.equal(schema["additionalProperties"], false);
    assert.deepEqual(Object.keys(schema["properties"] as object), ["server", "limiter", "log", "tracing", "defaults", "limits", "services", "consumers", "policies", "serviceTokens"]);
  });
});
