/**
 * The config schema as JSON Schema (draft 2020-12), for editors; `npm run schema` writes it to
 * schema/. The refinements zod cannot translate bring their own JSON Schema (schema.ts's
 * `.meta()`); test/config/configCorpus.test.ts checks the result against the loader.
 */
import { z } from "zod";
import { configSchema } from "./schema.js";

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  return {
    ...schema,
    // An empty file (YAML null) is the default configuration, as the loader reads it.
    type: ["object", "null"],
    title: "Sluice configuration",
  };
}
