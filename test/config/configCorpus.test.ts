// The editor says what Sluice says: every case of the shared corpus (configCorpus.ts) goes through
// Sluice's loader (what `sluice check-config` runs) and through ajv with the shipped JSON Schema
// (schema/sluice.config.schema.json, what editors load), and the two verdicts must agree, except
// the documented known differences, which must still disagree as documented.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { ConfigError, parseConfig } from "../../src/config/loader.js";
import { CONFIG_CASES } from "./configCorpus.js";

const SHIPPED = new URL("../../schema/sluice.config.schema.json", import.meta.url);

async function shippedValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(await readFile(SHIPPED, "utf8")) as object);
}

function loaderAccepts(yaml: string): boolean {
  try {
    parseConfig(yaml, "case.yaml");
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

describe("the shipped JSON Schema and check-config, on one corpus", async () => {
  const validate = await shippedValidator();

  for (const c of CONFIG_CASES) {
    it(`${c.valid ? "accept" : "refuse"}: ${c.name}`, () => {
      assert.equal(loaderAccepts(c.yaml), c.valid, "the loader's verdict is the corpus's");
      // YAML `null` (an empty file) is what an editor validates too.
      const schemaAccepts = validate(parse(c.yaml) ?? null);
      if (c.knownDifference === undefined) {
        assert.equal(schemaAccepts, c.valid, `the JSON Schema disagrees: ${JSON.stringify(validate.errors)}`);
      } else {
        assert.equal(schemaAccepts, !c.valid, `listed as a known difference (${c.knownDifference}), yet the JSON Schema now agrees: drop the note`);
      }
    });
  }

  it("covers both verdicts and keeps its known differences few", () => {
    assert.ok(CONFIG_CASES.filter((c) => c.valid).length >= 20);
    assert.ok(CONFIG_CASES.filter((c) => !c.valid).length >= 30);
    assert.ok(CONFIG_CASES.filter((c) => c.knownDifference !== undefined).length <= 8);
  });
});
